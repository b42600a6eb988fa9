/* test_metrics.c -- proves the metric registry renders the Prometheus text format exactly: HELP and TYPE per family, labelled series, cumulative histogram buckets, and updates from another thread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const hb_metric_def defs[] = {
	{ "t_events_total", HB_METRIC_COUNTER, "Events.", false },
	{ "t_runs_total", HB_METRIC_COUNTER, "Runs by hook.", true },
	{ "t_queue", HB_METRIC_GAUGE, "Queue depth.", false },
	{ "t_duration_seconds", HB_METRIC_HISTOGRAM, "Durations.", false },
	{ NULL, 0, NULL, false },
};

static int setup(void **state)
{
	hb_error err = { 0 };

	(void)state;
	return hb_metrics_declare(defs, &err);
}

static int teardown(void **state)
{
	(void)state;
	hb_metrics_reset();
	return 0;
}

static char *render(void)
{
	size_t len = 0;
	char *text = hb_metrics_render(&len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_fresh_registry_has_unlabelled_series_at_zero(void **state)
{
	char *text = render();

	(void)state;
	assert_non_null(strstr(text, "# HELP t_events_total Events.\n# TYPE t_events_total counter\nt_events_total 0\n"));
	/* A labelled family has no series until one is used. */
	assert_non_null(strstr(text, "# TYPE t_runs_total counter\n# HELP t_queue"));
	assert_non_null(strstr(text, "t_queue 0\n"));
	assert_non_null(strstr(text, "t_duration_seconds_bucket{le=\"+Inf\"} 0\nt_duration_seconds_sum 0\n"
				     "t_duration_seconds_count 0\n"));
	free(text);
}

static void test_counters_labels_and_gauges(void **state)
{
	char *text;

	(void)state;
	hb_metric_add("t_events_total", 1);
	hb_metric_add("t_events_total", 2);
	hb_metric_addl("t_runs_total", 1, "hook=\"%d\",result=\"%s\"", 3, "success");
	hb_metric_addl("t_runs_total", 1, "hook=\"%d\",result=\"%s\"", 3, "error");
	hb_metric_addl("t_runs_total", 1, "hook=\"%d\",result=\"%s\"", 3, "success");
	hb_metric_set("t_queue", 7);
	hb_metric_set("t_queue", 4);
	hb_metric_add("t_no_such_family", 1);
	text = render();
	assert_non_null(strstr(text, "t_events_total 3\n"));
	assert_non_null(strstr(text, "t_runs_total{hook=\"3\",result=\"success\"} 2\n"
				     "t_runs_total{hook=\"3\",result=\"error\"} 1\n"));
	assert_non_null(strstr(text, "t_queue 4\n"));
	assert_null(strstr(text, "t_no_such_family"));
	free(text);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
	char *text;

	(void)state;
	hb_metric_observe("t_duration_seconds", 0.004);
	hb_metric_observe("t_duration_seconds", 0.005);
	hb_metric_observe("t_duration_seconds", 0.75);
	hb_metric_observe("t_duration_seconds", 5000);
	text = render();
	assert_non_null(strstr(text, "t_duration_seconds_bucket{le=\"0.005\"} 2\n"
				     "t_duration_seconds_bucket{le=\"0.01\"} 2\n"));
	assert_non_null(strstr(text, "t_duration_seconds_bucket{le=\"0.5\"} 2\nt_duration_seconds_bucket{le=\"1\"} 3\n"));
	assert_non_null(strstr(text, "t_duration_seconds_bucket{le=\"900\"} 3\n"
				     "t_duration_seconds_bucket{le=\"+Inf\"} 4\n"
				     "t_duration_seconds_sum 5000.759\n"
				     "t_duration_seconds_count 4\n"));
	free(text);
}

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++)
		hb_metric_add("t_events_total", 1);
	return NULL;
}

static void test_updates_from_threads_are_not_lost(void **state)
{
	pthread_t t[4];
	char *text;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, adder, NULL), 0);
	for (int i = 0; i < 100; i++)
		free(render());
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = render();
	assert_non_null(strstr(text, "t_events_total 40000\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_registry_has_unlabelled_series_at_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_labels_and_gauges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram_buckets_are_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_updates_from_threads_are_not_lost, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
