/* pubmetrics.h -- hm-publisher's Prometheus metrics: their names and the /metrics endpoint. */
#ifndef HB_PUBMETRICS_H
#define HB_PUBMETRICS_H

#include <stdint.h>

#include "config.h"
#include "error.h"
#include "journal.h"

#define PM_RECEIVED "hookbus_publisher_events_received_total"
#define PM_PUBLISHED "hookbus_publisher_events_published_total"
#define PM_REJECTED "hookbus_publisher_events_rejected_total"
#define PM_JOURNAL_EVENTS "hookbus_publisher_journal_events"
#define PM_LAST_SEQ "hookbus_publisher_journal_last_seq"
#define PM_SYNCS "hookbus_publisher_journal_syncs_total"
#define PM_REPLAYS "hookbus_publisher_replays_served_total"

/* Declares hm-publisher's metrics and, when METRICS_LISTEN is set, starts
 * serving them.  Returns a negative code when the address cannot be bound. */
int publisher_metrics_start(const hb_config *cfg, hb_error *err);

/* Stops the endpoint and forgets the metrics; safe when never started. */
void publisher_metrics_stop(void);

/* Refreshes the journal gauges (events kept, last sequence number); a no-op
 * when no endpoint serves them. */
void publisher_metrics_journal(hb_journal *j);

#endif
