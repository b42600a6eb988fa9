/* db.c -- SQLite databases: durable settings and forward-only schema migrations. */
#include "db.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "fault.h"
#include "fsutil.h"

int hb_db_error(sqlite3 *db, hb_error *err, const char *what)
{
	int code = sqlite3_errcode(db);
	int rc = (code == SQLITE_FULL) ? -HB_ETOOBIG : -HB_EIO;

	return hb_error_set(err, rc, "%s: %s", what, sqlite3_errmsg(db));
}

int hb_db_exec(sqlite3 *db, const char *sql, hb_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(db);
		int rc = hb_error_set(err, code == SQLITE_FULL ? -HB_ETOOBIG : -HB_EIO, "database: %s",
				      msg ? msg : sqlite3_errstr(code));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

/* Returns the version number NNN of an embedded file "<name>_NNN_*.sql", or -1. */
static int migration_version(const char *file, const char *name)
{
	size_t n = strlen(name);
	char *end;
	long v;

	if (strncmp(file, name, n) != 0 || file[n] != '_')
		return -1;
	v = strtol(file + n + 1, &end, 10);
	if (end == file + n + 1 || *end != '_' || v <= 0 || v > 100000)
		return -1;
	return (int)v;
}

static int db_migrate(sqlite3 *db, const char *name, hb_error *err)
{
	sqlite3_stmt *st = NULL;
	int current = 0, latest = 0, rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return hb_db_error(db, err, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		current = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (const struct hb_embedded *e = hb_sql_texts; e->name != NULL; e++)
		if (migration_version(e->name, name) > latest)
			latest = migration_version(e->name, name);
	if (current > latest)
		return hb_error_set(err, -HB_EINVAL, "database schema version %d is newer than this program's %d",
				    current, latest);
	for (const struct hb_embedded *e = hb_sql_texts; e->name != NULL; e++) {
		int v = migration_version(e->name, name);
		char pragma[64];
		if (v <= current)
			continue;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", v);
		rc = hb_db_exec(db, "BEGIN IMMEDIATE", err);
		if (rc == 0)
			rc = hb_db_exec(db, e->text, err);
		if (rc == 0)
			rc = hb_db_exec(db, pragma, err);
		if (rc == 0)
			rc = hb_db_exec(db, "COMMIT", err);
		if (rc < 0) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return hb_error_prefix(err, "migration %s", e->name);
		}
		current = v;
	}
	return 0;
}

/* Test seam (fault.h): HB_FAULT=<name>_db_max_pages:N caps the database at N
 * pages, so that a test sees what a full disk does. */
static int db_fault_limit(sqlite3 *db, const char *name, hb_error *err)
{
	char key[64], pragma[64];
	int64_t pages;

	snprintf(key, sizeof(key), "%s_db_max_pages", name);
	pages = hb_fault_value(key);
	if (pages <= 0)
		return 0;
	snprintf(pragma, sizeof(pragma), "PRAGMA max_page_count = %lld;", (long long)pages);
	return hb_db_exec(db, pragma, err);
}

/* SQLite's memory statistics take a global mutex around every allocation
 * it makes; nothing here reads them.  Set before SQLite initializes, that
 * is before the first connection. */
static void db_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int hb_db_open(const char *path, const char *name, sqlite3 **out, hb_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sqlite3 *db = NULL;
	int rc;

	pthread_once(&once, db_configure);

	rc = hb_mkdir_parent(path, 0750, err);
	if (rc < 0)
		return rc;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		rc = hb_error_set(err, -HB_EIO, "cannot open database %s: %s", path,
				  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = hb_db_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
			err);
	if (rc == 0)
		rc = db_migrate(db, name, err);
	if (rc == 0)
		rc = db_fault_limit(db, name, err);
	if (rc < 0) {
		sqlite3_close(db);
		return hb_error_prefix(err, "%s", path);
	}
	*out = db;
	return 0;
}

void hb_db_close(sqlite3 *db)
{
	if (db == NULL)
		return;
	sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_close(db);
}
