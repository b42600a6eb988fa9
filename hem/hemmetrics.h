/* hemmetrics.h -- hem's Prometheus metrics: their names, the gauges of its state and the /metrics endpoint. */
#ifndef HB_HEMMETRICS_H
#define HB_HEMMETRICS_H

#include "config.h"
#include "error.h"

struct hem;

#define HM_EVENTS_RECEIVED "hookbus_hem_events_received_total"
#define HM_EVENTS_DROPPED "hookbus_hem_events_dropped_total"
#define HM_EVENTS_FILTERED "hookbus_hem_events_filtered_total"
#define HM_EXECUTIONS "hookbus_hem_executions_total"
#define HM_DURATION "hookbus_hem_execution_duration_seconds"
#define HM_TIMEOUTS "hookbus_hem_execution_timeouts_total"
#define HM_QUEUED "hookbus_hem_queued_executions"
#define HM_RUNNING "hookbus_hem_running_hooks"
#define HM_REPLAYS "hookbus_hem_replays_requested_total"
#define HM_LAST_SEQ "hookbus_hem_last_seq"

/* Counts one finished execution of hook_id with result (an execution
 * state: SUCCESS, ERROR, INTERRUPTED...; reported in lower case). */
void hem_metrics_execution(int64_t hook_id, const char *result);

/* Checks METRICS_LISTEN's shape (empty is off). */
int hem_metrics_check(const hb_config *cfg, hb_error *err);

/* Declares hem's metrics and, when METRICS_LISTEN is set, starts serving
 * them.  Returns a negative code when the address cannot be bound. */
int hem_metrics_start(const hb_config *cfg, hb_error *err);

/* Stops the endpoint and forgets the metrics; safe when never started. */
void hem_metrics_stop(void);

/* Refreshes the gauges from h: running hooks, last seq, and the queue depth
 * (a count over the partial index of PENDING records), once per loop turn. */
void hem_metrics_refresh(struct hem *h);

#endif
