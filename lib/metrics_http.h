/* metrics_http.h -- the HTTP endpoint (libmicrohttpd) that serves the metric registry at /metrics. */
#ifndef HB_METRICS_HTTP_H
#define HB_METRICS_HTTP_H

#include "error.h"

typedef struct hb_metrics_server hb_metrics_server;

/* Checks that listen is "HOST:PORT" ("[V6ADDR]:PORT" for IPv6) with a
 * numeric port and a host that resolves, without binding anything. */
int hb_metrics_listen_check(const char *listen, hb_error *err);

/* Serves GET /metrics on listen from a thread of its own that only renders
 * the registry (metrics.h) under its lock; signals stay with the daemon's
 * main thread.  Returns 0 and *out (stopped with hb_metrics_server_stop),
 * or a negative code when the address cannot be bound. */
int hb_metrics_server_start(const char *listen, hb_metrics_server **out, hb_error *err);

/* Stops the server and frees it; accepts NULL. */
void hb_metrics_server_stop(hb_metrics_server *s);

struct hb_metric_def;

/* What each daemon does at start: declares its metrics (defs, see
 * metrics.h) and, when listen is neither NULL nor empty, serves them there
 * (*out, NULL otherwise), logging the address. */
int hb_metrics_open(const struct hb_metric_def *defs, const char *listen, hb_metrics_server **out,
		    hb_error *err);

/* What each daemon does at the end: stops s (accepts NULL) and forgets the
 * declared metrics. */
void hb_metrics_close(hb_metrics_server *s);

#endif
