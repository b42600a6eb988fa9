/* metrics.c -- the process's metric registry and its Prometheus text exposition. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAMILIES_MAX 48
#define LABELS_MAX 256

const double hb_metric_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900 };
const size_t hb_metric_nbuckets = sizeof(hb_metric_buckets) / sizeof(hb_metric_buckets[0]);

struct series {
	struct series *next;
	char *labels;          /* "" for the unlabelled series */
	double value;          /* counter, gauge */
	double sum;            /* histogram */
	unsigned long long count;
	unsigned long long *bucket;   /* histogram: per-bucket (not cumulative) counts */
};

struct family {
	const hb_metric_def *def;
	struct series *series;   /* in creation order */
	struct series **tail;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct family g_family[FAMILIES_MAX];
static size_t g_nfamily;

static struct family *family_find(const char *name)
{
	for (size_t i = 0; i < g_nfamily; i++)
		if (strcmp(g_family[i].def->name, name) == 0)
			return &g_family[i];
	return NULL;
}

/* Returns the series of f with labels, creating it; NULL when out of memory. */
static struct series *series_get(struct family *f, const char *labels)
{
	struct series *s;

	for (s = f->series; s != NULL; s = s->next)
		if (strcmp(s->labels, labels) == 0)
			return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->labels = strdup(labels);
	if (f->def->type == HB_METRIC_HISTOGRAM)
		s->bucket = calloc(hb_metric_nbuckets, sizeof(*s->bucket));
	if (s->labels == NULL || (f->def->type == HB_METRIC_HISTOGRAM && s->bucket == NULL)) {
		free(s->labels);
		free(s->bucket);
		free(s);
		return NULL;
	}
	*f->tail = s;
	f->tail = &s->next;
	return s;
}

int hb_metrics_declare(const hb_metric_def *defs, hb_error *err)
{
	int rc = 0;

	pthread_mutex_lock(&g_lock);
	for (const hb_metric_def *d = defs; d->name != NULL && rc == 0; d++) {
		struct family *f = family_find(d->name);
		if (f != NULL)
			continue;
		if (g_nfamily == FAMILIES_MAX) {
			rc = hb_error_set(err, -HB_ETOOBIG, "too many metric families");
			break;
		}
		f = &g_family[g_nfamily++];
		f->def = d;
		f->series = NULL;
		f->tail = &f->series;
		if (!d->labelled && series_get(f, "") == NULL)
			rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&g_lock);
	return rc;
}

void hb_metrics_reset(void)
{
	pthread_mutex_lock(&g_lock);
	for (size_t i = 0; i < g_nfamily; i++) {
		struct series *s = g_family[i].series;
		while (s != NULL) {
			struct series *next = s->next;
			free(s->labels);
			free(s->bucket);
			free(s);
			s = next;
		}
	}
	g_nfamily = 0;
	pthread_mutex_unlock(&g_lock);
}

enum op { OP_ADD, OP_SET, OP_OBSERVE };

/* Applies one update under the lock. */
static void update(const char *name, const char *labels, enum op op, double v)
{
	struct family *f;
	struct series *s;

	pthread_mutex_lock(&g_lock);
	f = family_find(name);
	if (f != NULL && (s = series_get(f, labels)) != NULL) {
		if (op == OP_ADD)
			s->value += v;
		else if (op == OP_SET)
			s->value = v;
		else if (f->def->type == HB_METRIC_HISTOGRAM) {
			size_t b = 0;
			while (b < hb_metric_nbuckets && v > hb_metric_buckets[b])
				b++;
			if (b < hb_metric_nbuckets)
				s->bucket[b]++;
			s->sum += v;
			s->count++;
		}
	}
	pthread_mutex_unlock(&g_lock);
}

void hb_metric_add(const char *name, double v)
{
	update(name, "", OP_ADD, v);
}

void hb_metric_addl(const char *name, double v, const char *fmt, ...)
{
	char labels[LABELS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(labels, sizeof(labels), fmt, ap);
	va_end(ap);
	update(name, labels, OP_ADD, v);
}

void hb_metric_set(const char *name, double v)
{
	update(name, "", OP_SET, v);
}

void hb_metric_observe(const char *name, double v)
{
	update(name, "", OP_OBSERVE, v);
}

/* A growing output buffer; on allocation failure it is freed and stays NULL. */
struct out {
	char *buf;
	size_t len, cap;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->buf == NULL)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			free(o->buf);
			o->buf = NULL;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		char *bigger = realloc(o->buf, o->cap * 2 + (size_t)n);
		if (bigger == NULL) {
			free(o->buf);
			o->buf = NULL;
			return;
		}
		o->buf = bigger;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

/* Writes a sample value: integers without a fraction, others with the
 * fewest digits (15 to 17) that read back as the same double. */
static void out_value(struct out *o, double v)
{
	char buf[40];

	if (v == floor(v) && fabs(v) < 1e15) {
		out_printf(o, "%.0f\n", v);
		return;
	}
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof(buf), "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	out_printf(o, "%s\n", buf);
}

static void render_histogram(struct out *o, const char *name, const struct series *s)
{
	const char *sep = s->labels[0] ? "," : "";
	unsigned long long cum = 0;

	for (size_t b = 0; b < hb_metric_nbuckets; b++) {
		cum += s->bucket[b];
		out_printf(o, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, s->labels, sep, hb_metric_buckets[b], cum);
	}
	out_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, s->labels, sep, s->count);
	out_printf(o, "%s_sum%s%s%s ", name, s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "");
	out_value(o, s->sum);
	out_printf(o, "%s_count%s%s%s %llu\n", name, s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "",
		   s->count);
}

char *hb_metrics_render(size_t *len)
{
	static const char *const type_name[] = { "counter", "gauge", "histogram" };
	struct out o = { malloc(4096), 0, 4096 };

	pthread_mutex_lock(&g_lock);
	for (size_t i = 0; i < g_nfamily && o.buf != NULL; i++) {
		const struct family *f = &g_family[i];
		const char *name = f->def->name;
		out_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", name, f->def->help, name, type_name[f->def->type]);
		for (const struct series *s = f->series; s != NULL; s = s->next) {
			if (f->def->type == HB_METRIC_HISTOGRAM) {
				render_histogram(&o, name, s);
				continue;
			}
			out_printf(&o, "%s%s%s%s ", name, s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "");
			out_value(&o, s->value);
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (o.buf != NULL)
		*len = o.len;
	return o.buf;
}
