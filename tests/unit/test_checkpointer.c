/* test_checkpointer.c -- proves that the checkpoint thread copies a growing WAL back into the database before the committing thread has to. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "checkpointer.h"

/* Bytes of the database file itself: it grows only when a checkpoint
 * copies pages from the WAL into it. */
static long long db_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void test_thread_checkpoints(void **state)
{
	char dir[] = "/tmp/hb-ckpt-XXXXXX", path[64], wal[72];
	hb_checkpointer *c = NULL;
	hb_error err = { 0 };
	sqlite3 *db = NULL;
	struct stat st;
	char blob[3000];
	long long size = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
				      "CREATE TABLE t (v BLOB)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(hb_checkpointer_start(path, db, &c, &err), 0);
	memset(blob, 'x', sizeof(blob));
	/* About 2,000 WAL pages in commits of one page or so: past the
	 * thread's 1,000, short of the 8,000 at which the committing thread
	 * would checkpoint itself. */
	for (int i = 0; i < 2000; i++) {
		sqlite3_stmt *st_ins = NULL;
		assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?)", -1, &st_ins, NULL), SQLITE_OK);
		sqlite3_bind_blob(st_ins, 1, blob, (int)sizeof(blob), SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st_ins), SQLITE_DONE);
		sqlite3_finalize(st_ins);
	}
	assert_int_equal(stat(wal, &st), 0);
	assert_true(st.st_size > 1500 * 4096);
	/* The thread copies while the writer goes on: wait for it (a bound
	 * for a loaded machine, not a timing claim). */
	for (int i = 0; i < 2000 && size < 1000 * 4096; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		size = db_size(path);
		if (size < 1000 * 4096)
			nanosleep(&ts, NULL);
	}
	assert_true(size >= 1000 * 4096);
	hb_checkpointer_stop(c);
	sqlite3_close(db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_checkpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
