/* test_task.c -- proves that a task runs its call in its own thread while the caller goes on, hands back the call's result, and is not freed under a running call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "task.h"

/* What a call saw and did. */
struct call {
	pthread_t caller;
	atomic_bool other_thread;  /* it ran in a thread other than the caller's */
	atomic_bool go;            /* set by the caller once hb_task_start() has returned */
	atomic_bool saw_go;        /* the call found go set while it ran */
	atomic_bool done;          /* the call has returned */
	int sleep_ms;              /* how long it takes */
	int rc;                    /* what it returns */
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int run_call(void *ctx, hb_error *err)
{
	struct call *c = ctx;

	atomic_store(&c->other_thread, !pthread_equal(pthread_self(), c->caller));
	for (int k = 0; k < 5000 && !atomic_load(&c->go); k++)
		sleep_ms(1);
	atomic_store(&c->saw_go, atomic_load(&c->go));
	sleep_ms(c->sleep_ms);
	atomic_store(&c->done, true);
	return c->rc < 0 ? hb_error_set(err, c->rc, "call failed on purpose") : c->rc;
}

static void test_the_call_runs_while_the_caller_goes_on(void **state)
{
	struct call c = { .caller = pthread_self() };
	hb_error err = { 0 };
	hb_task *t = NULL;

	(void)state;
	assert_int_equal(hb_task_new("hb-test-task", &t, &err), 0);
	hb_task_start(t, run_call, &c);
	/* The call waits for this: had hb_task_start() run it in the caller,
	 * the call would have given up after 5 s without seeing it. */
	atomic_store(&c.go, true);
	assert_int_equal(hb_task_wait(t, &err), 0);
	assert_true(atomic_load(&c.done));
	assert_true(atomic_load(&c.saw_go));
	assert_true(atomic_load(&c.other_thread));
	hb_task_free(t);
}

static void test_the_result_and_error_come_back(void **state)
{
	struct call ok = { .caller = pthread_self(), .go = true, .rc = 0 };
	struct call bad = { .caller = pthread_self(), .go = true, .rc = -HB_EIO };
	hb_error err = { 0 };
	hb_task *t = NULL;

	(void)state;
	assert_int_equal(hb_task_new("hb-test-task", &t, &err), 0);
	hb_task_start(t, run_call, &bad);
	assert_int_equal(hb_task_wait(t, &err), -HB_EIO);
	assert_string_equal(err.msg, "call failed on purpose");
	/* The task is reused: the next call's success clears nothing it should not. */
	hb_task_start(t, run_call, &ok);
	assert_int_equal(hb_task_wait(t, &err), 0);
	assert_true(atomic_load(&ok.done));
	hb_task_free(t);
}

static void test_free_waits_for_a_running_call(void **state)
{
	struct call c = { .caller = pthread_self(), .go = true, .sleep_ms = 100 };
	hb_error err = { 0 };
	hb_task *t = NULL;

	(void)state;
	assert_int_equal(hb_task_new("hb-test-task", &t, &err), 0);
	hb_task_start(t, run_call, &c);
	hb_task_free(t);
	assert_true(atomic_load(&c.done));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_call_runs_while_the_caller_goes_on),
		cmocka_unit_test(test_the_result_and_error_come_back),
		cmocka_unit_test(test_free_waits_for_a_running_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
