/* test_pool.c -- proves that a pool round runs every item once, never two at a time on one lane, and really uses its helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cpuquota.h"
#include "pool.h"

#define ITEMS_MAX 600
#define LANES_MAX 8

struct tally {
	atomic_int runs[ITEMS_MAX];        /* times each item ran */
	atomic_int busy[LANES_MAX];        /* threads inside the callback, per lane */
	atomic_int overlaps;               /* a lane found busy on entry */
	atomic_int bad_lane;               /* a lane out of range */
	atomic_int by_lane[LANES_MAX];     /* items each lane ran */
	size_t lanes;
};

static void count_item(void *ctx, size_t lane, size_t i)
{
	struct tally *t = ctx;

	if (lane >= t->lanes) {
		atomic_fetch_add(&t->bad_lane, 1);
		return;
	}
	if (atomic_fetch_add(&t->busy[lane], 1) != 0)
		atomic_fetch_add(&t->overlaps, 1);
	atomic_fetch_add(&t->runs[i], 1);
	atomic_fetch_add(&t->by_lane[lane], 1);
	/* Some items take a little while, so that rounds overlap the helpers' wake-ups. */
	if (i % 7 == 0)
		for (volatile int k = 0; k < 2000; k++)
			;
	atomic_fetch_sub(&t->busy[lane], 1);
}

static void rounds_of(size_t helpers)
{
	static struct tally t;
	hb_error err = { 0 };
	hb_pool *p = NULL;

	assert_int_equal(hb_pool_new(helpers, 0, "test-pool", &p, &err), 0);
	assert_int_equal(hb_pool_lanes(p), helpers + 1);
	for (size_t round = 0; round < 300; round++) {
		size_t n = (round * 37) % ITEMS_MAX;
		memset(&t, 0, sizeof(t));
		t.lanes = hb_pool_lanes(p);
		hb_pool_for(p, n, count_item, &t);
		/* Every item ran once, and before hb_pool_for returned. */
		for (size_t i = 0; i < ITEMS_MAX; i++)
			assert_int_equal(atomic_load(&t.runs[i]), i < n ? 1 : 0);
		assert_int_equal(atomic_load(&t.overlaps), 0);
		assert_int_equal(atomic_load(&t.bad_lane), 0);
		if (helpers == 0)
			assert_int_equal(atomic_load(&t.by_lane[0]), (int)n);
	}
	hb_pool_free(p);
}

static void test_every_item_once_without_helpers(void **state)
{
	(void)state;
	rounds_of(0);
}

static void test_every_item_once_with_helpers(void **state)
{
	(void)state;
	rounds_of(3);
}

struct meet {
	atomic_int helped;   /* items run by a lane other than the caller's */
	int patience_ms;     /* how long item 0 waits for that */
};

/* Item 0 waits (up to its patience) until a helper has run some other item: that
 * can only happen if the helpers take items while the caller is busy. */
static void wait_for_helper(void *ctx, size_t lane, size_t i)
{
	struct meet *m = ctx;
	struct timespec pause = { 0, 1000000 };

	if (lane != 0)
		atomic_fetch_add(&m->helped, 1);
	if (i != 0 || lane != 0)
		return;
	for (int k = 0; k < m->patience_ms && atomic_load(&m->helped) == 0; k++)
		nanosleep(&pause, NULL);
}

/* The threads of this process named name. */
static int threads_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, name, strlen(name)) == 0 &&
		    comm[strlen(name)] == '\n')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void test_helpers_are_named(void **state)
{
	hb_error err = { 0 };
	hb_pool *p = NULL;

	(void)state;
	assert_int_equal(hb_pool_new(2, 0, "test-named", &p, &err), 0);
	assert_int_equal(threads_named("test-named"), 2);
	hb_pool_free(p);
	assert_int_equal(threads_named("test-named"), 0);
}

/* How many items of a round of n in p ran outside the caller's lane,
 * when item 0 waits up to patience_ms for some to. */
static int helped_in_round(hb_pool *p, size_t n, int patience_ms)
{
	struct meet m = { .patience_ms = patience_ms };

	hb_pool_for(p, n, wait_for_helper, &m);
	return atomic_load(&m.helped);
}

static void test_helpers_take_items(void **state)
{
	hb_error err = { 0 };
	hb_pool *p = NULL;

	(void)state;
	assert_int_equal(hb_pool_new(1, 0, "test-pool", &p, &err), 0);
	/* The caller takes item 0 first and waits in it; the helper takes the rest. */
	assert_true(helped_in_round(p, 50, 10000) > 0);
	hb_pool_free(p);
}

/* A round below the pool's minimum runs in the caller alone, even when
 * its first item waits for a helper to take another. */
static void test_small_rounds_stay_in_the_caller(void **state)
{
	hb_error err = { 0 };
	hb_pool *p = NULL;

	(void)state;
	assert_int_equal(hb_pool_new(2, 8, "test-pool", &p, &err), 0);
	assert_int_equal(helped_in_round(p, 7, 200), 0);
	assert_true(helped_in_round(p, 8, 10000) > 0);
	hb_pool_free(p);
}

static void test_helpers_wanted(void **state)
{
	size_t quota = hb_cpu_quota("/sys/fs/cgroup", "/proc/self/cgroup"), cpus;
	cpu_set_t set;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	cpus = (size_t)CPU_COUNT(&set);
	if (quota > 0 && quota < cpus)
		cpus = quota;
	assert_int_equal(hb_pool_helpers_wanted(0), 0);
	assert_true(hb_pool_helpers_wanted(3) <= 3);
	assert_int_equal(hb_pool_helpers_wanted(1000), cpus - 1);
	hb_pool_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_item_once_without_helpers),
		cmocka_unit_test(test_every_item_once_with_helpers),
		cmocka_unit_test(test_helpers_take_items),
		cmocka_unit_test(test_helpers_are_named),
		cmocka_unit_test(test_small_rounds_stay_in_the_caller),
		cmocka_unit_test(test_helpers_wanted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
