/* checkpointer.c -- WAL checkpoints in a thread: the page copies and the fsync of a checkpoint
 * no longer stall the loop of the daemon that commits (bench/latency.py's p99). */
#include "checkpointer.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thread.h"

#define CHECKPOINT_PAGES 1000   /* SQLite's default wal_autocheckpoint */
#define CATCH_UP_PAGES 8000     /* the committing thread checkpoints itself past this */

struct hb_checkpointer {
	sqlite3 *main;           /* the daemon's connection (its WAL hook is ours) */
	sqlite3 *db;             /* the thread's own connection */
	int fd;                  /* the database file, to flush what the thread's checkpoints wrote */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int mark;                /* WAL pages when a checkpoint was last asked for (committing thread's) */
	bool due;                /* a checkpoint is wanted */
	bool stop;
};

/* sqlite3_wal_hook() callback, in the committing thread after each commit:
 * wakes the checkpointer each time the WAL has grown by CHECKPOINT_PAGES.
 * A checkpoint that runs while commits go on copies what it can but never
 * all of the WAL, and only a WAL copied whole starts again from its
 * beginning: under a steady stream of commits it would grow without end.
 * Past CATCH_UP_PAGES the committing thread (the only writer) checkpoints
 * too: the thread has copied most frames already, and flushed them to the
 * disk, so this one copies few and its sync has little to write; the next
 * commit starts the WAL over. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	hb_checkpointer *c = arg;

	if (pages < c->mark)
		c->mark = 0;
	if (pages >= CATCH_UP_PAGES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (pages - c->mark >= CHECKPOINT_PAGES) {
		c->mark = pages;
		pthread_mutex_lock(&c->lock);
		c->due = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
	hb_checkpointer *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->due && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		/* Busy (another checkpoint running) or failed: the next commit
		 * past the threshold asks again.  A checkpoint that could not
		 * copy the whole WAL does not sync the database file: the pages
		 * it wrote are flushed here, not by the committing thread's
		 * checkpoint past CATCH_UP_PAGES, whose sync would otherwise
		 * write them all while the daemon's loop waits. */
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (c->fd >= 0)
			fdatasync(c->fd);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Frees c, whose thread has not started or has been joined. */
static void checkpointer_free(hb_checkpointer *c)
{
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	sqlite3_close(c->db);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int hb_checkpointer_start(const char *path, sqlite3 *db, hb_checkpointer **out, hb_error *err)
{
	hb_checkpointer *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	c->fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = hb_error_set(err, -HB_EIO, "cannot open database %s for checkpoints: %s", path,
				  c->db ? sqlite3_errmsg(c->db) : "out of memory");
		checkpointer_free(c);
		return rc;
	}
	sqlite3_busy_timeout(c->db, 5000);
	/* A connection learns that the database is in WAL mode, and opens the
	 * WAL, at its first read: until then its checkpoints do nothing. */
	if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
		rc = hb_error_set(err, -HB_EIO, "cannot read database %s for checkpoints: %s", path,
				  sqlite3_errmsg(c->db));
		checkpointer_free(c);
		return rc;
	}
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = hb_thread_start(&c->thread, NULL, checkpointer_main, c);
	if (rc != 0) {
		checkpointer_free(c);
		return hb_error_set(err, -HB_EIO, "cannot start the checkpoint thread: %s", strerror(rc));
	}
	c->main = db;
	sqlite3_wal_hook(db, on_commit, c);
	*out = c;
	return 0;
}

void hb_checkpointer_stop(hb_checkpointer *c)
{
	if (c == NULL)
		return;
	sqlite3_wal_autocheckpoint(c->main, CHECKPOINT_PAGES);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	checkpointer_free(c);
}
