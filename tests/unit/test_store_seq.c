/* test_store_seq.c -- proves that hem.db's last_seq, set within transactions, is written by the outermost commit and taken back by a rollback of any level, as another reader of hem.db sees it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

/* Each test's directory: mkdtemp() replaces the six trailing X's of this
 * template with a unique name. */
#define DIR_TEMPLATE "/tmp/hb-store-seq-XXXXXX"

struct fixture {
	char dir[sizeof(DIR_TEMPLATE)];
	char path[96];
	hb_store *store;
	sqlite3 *reader;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	hb_error err = { 0 };

	assert_non_null(f);
	memcpy(f->dir, DIR_TEMPLATE, sizeof(DIR_TEMPLATE));
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/hem.db", f->dir);
	assert_int_equal(hb_store_open(f->path, &f->store, &err), 0);
	assert_int_equal(sqlite3_open_v2(f->path, &f->reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char wal[128], shm[128];

	sqlite3_close(f->reader);
	hb_store_close(f->store);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	snprintf(shm, sizeof(shm), "%s-shm", f->path);
	unlink(wal);
	unlink(shm);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* last_seq as another connection to hem.db reads it: what is committed. */
static int64_t committed(struct fixture *f)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(f->reader, "SELECT value FROM meta WHERE key = 'last_seq'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* last_seq as hem reads it. */
static int64_t seen(struct fixture *f)
{
	hb_error err = { 0 };
	int64_t v = -1;

	assert_int_equal(hb_store_last_seq(f->store, &v, &err), 0);
	return v;
}

static void set(struct fixture *f, int64_t seq)
{
	hb_error err = { 0 };

	assert_int_equal(hb_store_set_last_seq(f->store, seq, &err), 0);
}

static void begin(struct fixture *f)
{
	hb_error err = { 0 };

	assert_int_equal(hb_store_begin(f->store, &err), 0);
}

static void commit(struct fixture *f)
{
	hb_error err = { 0 };

	assert_int_equal(hb_store_commit(f->store, &err), 0);
}

static void test_outside_a_transaction_it_is_written_at_once(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(committed(f), 0);
	set(f, 3);
	assert_int_equal(committed(f), 3);
	assert_int_equal(seen(f), 3);
}

static void test_the_outermost_commit_writes_the_last_value(void **state)
{
	struct fixture *f = *state;

	set(f, 3);
	begin(f);
	for (int64_t seq = 4; seq <= 9; seq++) {
		begin(f);
		set(f, seq);
		commit(f);
		assert_int_equal(seen(f), seq);
	}
	assert_int_equal(committed(f), 3);
	commit(f);
	assert_int_equal(committed(f), 9);
	assert_int_equal(seen(f), 9);
}

/* last_seq 3 committed, then a transaction open in which a released
 * savepoint set 4: a turn after its first event. */
static void turn_after_one_event(struct fixture *f)
{
	set(f, 3);
	begin(f);
	begin(f);
	set(f, 4);
	commit(f);
}

static void test_a_savepoint_rollback_takes_back_its_events_only(void **state)
{
	struct fixture *f = *state;

	turn_after_one_event(f);
	begin(f);
	set(f, 5);
	hb_store_rollback(f->store);
	assert_int_equal(seen(f), 4);
	commit(f);
	assert_int_equal(committed(f), 4);
	assert_int_equal(seen(f), 4);
}

static void test_an_outer_rollback_takes_back_everything(void **state)
{
	struct fixture *f = *state;

	turn_after_one_event(f);
	set(f, 5);
	hb_store_rollback(f->store);
	assert_int_equal(seen(f), 3);
	assert_int_equal(committed(f), 3);
	/* The next transaction starts from what is committed. */
	begin(f);
	commit(f);
	assert_int_equal(committed(f), 3);
	begin(f);
	set(f, 6);
	commit(f);
	assert_int_equal(committed(f), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outside_a_transaction_it_is_written_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_outermost_commit_writes_the_last_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_savepoint_rollback_takes_back_its_events_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_outer_rollback_takes_back_everything, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
