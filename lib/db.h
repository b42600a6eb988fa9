/* db.h -- opening hookbus's SQLite databases and migrating their schema forward. */
#ifndef HB_DB_H
#define HB_DB_H

#include <sqlite3.h>

#include "error.h"

/* Opens (creating if needed) the database at path in WAL mode with
 * synchronous=FULL (a commit is durable when it returns) and a busy timeout,
 * then applies, each in its own transaction, the embedded migrations
 * db/<name>_NNN_*.sql whose NNN is above the database's user_version.  A
 * database newer than this program is refused.  *out is closed with
 * hb_db_close(). */
int hb_db_open(const char *path, const char *name, sqlite3 **out, hb_error *err);

/* Closes db (accepts NULL), checkpointing the WAL. */
void hb_db_close(sqlite3 *db);

/* Runs sql (one or more statements without results). */
int hb_db_exec(sqlite3 *db, const char *sql, hb_error *err);

/* Fills err with the database's last error, prefixed by what; returns the
 * negative code. */
int hb_db_error(sqlite3 *db, hb_error *err, const char *what);

/* Finalizes a statement; for __attribute__((cleanup)). */
static inline void hb_db_stmt_cleanup(sqlite3_stmt **st)
{
	sqlite3_finalize(*st);
}
#define hb_autostmt __attribute__((cleanup(hb_db_stmt_cleanup)))

#endif
