/* pubmetrics.c -- hm-publisher's metric families, the journal gauges and the /metrics endpoint's life. */
#include "pubmetrics.h"

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

static const hb_metric_def defs[] = {
	{ PM_RECEIVED, HB_METRIC_COUNTER, "Valid events received on the command endpoints, by type (api, state).", true },
	{ PM_PUBLISHED, HB_METRIC_COUNTER, "Events journaled and published on the bus, by type (api, state).", true },
	{ PM_REJECTED, HB_METRIC_COUNTER,
	  "Requests refused, by reason (invalid: bad message; protocol: bad request; journal: journal failure).", true },
	{ PM_JOURNAL_EVENTS, HB_METRIC_GAUGE, "Events kept in the journal for REPLAY.", false },
	{ PM_LAST_SEQ, HB_METRIC_GAUGE, "The last sequence number assigned.", false },
	{ PM_REPLAYS, HB_METRIC_COUNTER, "REPLAY requests answered.", false },
	{ PM_SYNCS, HB_METRIC_COUNTER,
	  "Journal syncs (one per group commit), by whether the loop prepared the next group meanwhile (overlapped).",
	  true },
	{ NULL, 0, NULL, false },
};

static hb_metrics_server *g_server;

int publisher_metrics_start(const hb_config *cfg, hb_error *err)
{
	return hb_metrics_open(defs, hb_config_str(cfg, "METRICS_LISTEN"), &g_server, err);
}

void publisher_metrics_stop(void)
{
	hb_metrics_close(g_server);
	g_server = NULL;
}

void publisher_metrics_journal(hb_journal *j)
{
	uint64_t last = hb_journal_last_seq(j), first = 0;
	hb_error err = { 0 };

	if (g_server == NULL)
		return;
	hb_metric_set(PM_LAST_SEQ, (double)last);
	if (hb_journal_first_seq(j, &first, &err) == 0)
		hb_metric_set(PM_JOURNAL_EVENTS, (double)(last + 1 - first));
}
