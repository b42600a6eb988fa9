/* metrics.h -- the process's Prometheus metrics: counters, gauges and histograms in the text exposition format. */
#ifndef HB_METRICS_H
#define HB_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * One registry per process, safe to update from the daemon's loop while the
 * metrics server's thread renders it (every call takes one mutex).  A metric
 * family is declared once with its type and help text; updates name the
 * family and, for labelled families, a label set written as Prometheus
 * writes it (`hook="3",result="success"`).  Updates of an undeclared family
 * are ignored, so a daemon without METRICS_LISTEN pays one lookup per call.
 */
enum hb_metric_type { HB_METRIC_COUNTER, HB_METRIC_GAUGE, HB_METRIC_HISTOGRAM };

typedef struct hb_metric_def {
	const char *name;          /* e.g. hookbus_hem_executions_total */
	enum hb_metric_type type;
	const char *help;
	bool labelled;             /* false: the one series exists from the start, at 0 */
} hb_metric_def;

/* Declares the families of the NULL-name-terminated array defs (which must
 * outlive the registry).  Histograms get the buckets of hb_metric_buckets. */
int hb_metrics_declare(const hb_metric_def *defs, hb_error *err);

/* Forgets every family and series (at daemon stop). */
void hb_metrics_reset(void);

/* Adds v to the counter (or gauge) name; the labelled form formats the
 * label set from fmt. */
void hb_metric_add(const char *name, double v);
void hb_metric_addl(const char *name, double v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the gauge name to v. */
void hb_metric_set(const char *name, double v);

/* Records one observation v in the histogram name. */
void hb_metric_observe(const char *name, double v);

/* The upper bounds of histogram buckets, in seconds (+Inf is implicit). */
extern const double hb_metric_buckets[];
extern const size_t hb_metric_nbuckets;

/* Renders every series in the text exposition format (version 0.0.4).
 * Returns a new string (the caller frees it) and its length in *len, or
 * NULL when out of memory. */
char *hb_metrics_render(size_t *len);

#endif
