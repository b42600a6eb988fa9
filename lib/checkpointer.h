/* checkpointer.h -- WAL checkpoints of a daemon's database in a thread of their own. */
#ifndef HB_CHECKPOINTER_H
#define HB_CHECKPOINTER_H

#include <sqlite3.h>

#include "error.h"

typedef struct hb_checkpointer hb_checkpointer;

/* From now on the commits of db (a WAL database opened from path) no longer
 * checkpoint in the committing thread: once the WAL holds 1,000 pages (when
 * SQLite's own automatic checkpoint would run), a thread with its own
 * connection copies it back into the database (PASSIVE: writers go on
 * meanwhile) and syncs it, as the automatic checkpoint would have. */
int hb_checkpointer_start(const char *path, sqlite3 *db, hb_checkpointer **out, hb_error *err);

/* Stops the thread and gives db back its automatic checkpoints; before db
 * is closed.  NULL is allowed. */
void hb_checkpointer_stop(hb_checkpointer *c);

#endif
