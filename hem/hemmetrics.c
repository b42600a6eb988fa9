/* hemmetrics.c -- hem's metric families, the gauges of its queue and slots, and the /metrics endpoint's life. */
#include "hemmetrics.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "hem.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

static const hb_metric_def defs[] = {
	{ HM_EVENTS_RECEIVED, HB_METRIC_COUNTER, "Events taken from the bus or a replay, each once.", false },
	{ HM_EVENTS_DROPPED, HB_METRIC_COUNTER, "Bus or replayed messages dropped as bad input.", false },
	{ HM_EVENTS_FILTERED, HB_METRIC_COUNTER, "Hook triggers skipped because the hook's FILTER was false.", false },
	{ HM_EXECUTIONS, HB_METRIC_COUNTER, "Finished hook executions, by hook id and result.", true },
	{ HM_DURATION, HB_METRIC_HISTOGRAM, "Run time of hook executions, in seconds.", false },
	{ HM_TIMEOUTS, HB_METRIC_COUNTER, "Hook executions stopped for exceeding their TIMEOUT.", false },
	{ HM_QUEUED, HB_METRIC_GAUGE, "Executions waiting in the durable queue (PENDING records).", false },
	{ HM_RUNNING, HB_METRIC_GAUGE, "Hook processes running now.", false },
	{ HM_REPLAYS, HB_METRIC_COUNTER, "REPLAY requests sent to the publisher.", false },
	{ HM_LAST_SEQ, HB_METRIC_GAUGE, "The last event sequence number fully recorded.", false },
	{ NULL, 0, NULL, false },
};

static hb_metrics_server *g_server;

void hem_metrics_execution(int64_t hook_id, const char *result)
{
	char lower[32];
	size_t i;

	for (i = 0; result[i] != '\0' && i + 1 < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)result[i]);
	lower[i] = '\0';
	hb_metric_addl(HM_EXECUTIONS, 1, "hook=\"%" PRId64 "\",result=\"%s\"", hook_id, lower);
}

int hem_metrics_check(const hb_config *cfg, hb_error *err)
{
	const char *listen = hb_config_str(cfg, "METRICS_LISTEN");

	return listen == NULL || listen[0] == '\0' ? 0 : hb_metrics_listen_check(listen, err);
}

int hem_metrics_start(const hb_config *cfg, hb_error *err)
{
	return hb_metrics_open(defs, hb_config_str(cfg, "METRICS_LISTEN"), &g_server, err);
}

void hem_metrics_stop(void)
{
	hb_metrics_close(g_server);
	g_server = NULL;
}

/* The queue's depth is a count over the queue's index, which grows with the
 * backlog: taken at most this often, not on every turn of the loop (the
 * loop turns at least once a second). */
#define QUEUED_EVERY_MS 250

void hem_metrics_refresh(struct hem *h)
{
	static int64_t counted_ms;
	int64_t pending = 0, now;
	hb_error err = { 0 };

	if (g_server == NULL)
		return;
	hb_metric_set(HM_RUNNING, (double)hem_running(h));
	hb_metric_set(HM_LAST_SEQ, (double)h->last_seq);
	now = hem_now_ms();
	if (now - counted_ms < QUEUED_EVERY_MS)
		return;
	counted_ms = now;
	if (hb_store_exec_pending(h->store, &pending, &err) == 0)
		hb_metric_set(HM_QUEUED, (double)pending);
}
