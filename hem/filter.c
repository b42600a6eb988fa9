/* filter.c -- FILTER expressions: libxml2's XPath compiler and evaluator with their errors captured. */
#include "filter.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlerror.h>
#include <libxml/xpath.h>

struct hb_filter {
	xmlXPathCompExprPtr comp;
};

/* The first error libxml2 reported while errors were captured. */
struct capture {
	char msg[256];
	int pos;
	bool any;
};

static void capture_structured(void *data, xmlErrorPtr e)
{
	struct capture *c = data;
	size_t n;

	if (c->any || e == NULL)
		return;
	c->any = true;
	snprintf(c->msg, sizeof(c->msg), "%s", e->message ? e->message : "XPath error");
	n = strlen(c->msg);
	while (n > 0 && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' '))
		c->msg[--n] = '\0';
	c->pos = e->str1 != NULL ? e->int1 : -1;
}

static void __attribute__((format(printf, 2, 3))) capture_generic(void *data, const char *fmt, ...)
{
	(void)data;
	(void)fmt;
}

/* Saves libxml2's error handlers and routes errors into c until restore(). */
struct handlers {
	xmlStructuredErrorFunc structured;
	void *structured_ctx;
	xmlGenericErrorFunc generic;
	void *generic_ctx;
};

static void capture_start(struct handlers *saved, struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->pos = -1;
	saved->structured = xmlStructuredError;
	saved->structured_ctx = xmlStructuredErrorContext;
	saved->generic = xmlGenericError;
	saved->generic_ctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(c, capture_structured);
	xmlSetGenericErrorFunc(c, capture_generic);
}

static void capture_stop(const struct handlers *saved)
{
	xmlSetStructuredErrorFunc(saved->structured_ctx, saved->structured);
	xmlSetGenericErrorFunc(saved->generic_ctx, saved->generic);
}

/* Evaluates comp on doc with errors captured in c: 1, 0, or -1. */
static int eval(xmlXPathCompExprPtr comp, xmlDocPtr doc, struct capture *c)
{
	struct handlers saved;
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	int rc;

	if (ctx == NULL)
		return -2;
	capture_start(&saved, c);
	rc = xmlXPathCompiledEvalToBoolean(comp, ctx);
	capture_stop(&saved);
	xmlXPathFreeContext(ctx);
	return rc;
}

int hb_filter_compile(const char *expr, hb_filter **out, hb_error *err)
{
	struct handlers saved;
	struct capture c;
	hb_filter *f;
	xmlDocPtr probe;
	int rc;

	if (strlen(expr) > HB_FILTER_MAX)
		return hb_error_set(err, -HB_EINVAL, "longer than %d bytes", HB_FILTER_MAX);
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	capture_start(&saved, &c);
	f->comp = xmlXPathCompile(BAD_CAST expr);
	capture_stop(&saved);
	if (f->comp == NULL) {
		free(f);
		if (c.pos >= 0)
			return hb_error_set(err, -HB_EINVAL, "%s at character %d of '%.200s'",
					    c.any ? c.msg : "Invalid expression", c.pos, expr);
		return hb_error_set(err, -HB_EINVAL, "%s in '%.200s'", c.any ? c.msg : "Invalid expression", expr);
	}
	probe = xmlReadMemory("<HOOK_MESSAGE/>", 15, NULL, NULL, XML_PARSE_NONET);
	if (probe == NULL) {
		hb_filter_free(f);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	rc = eval(f->comp, probe, &c);
	xmlFreeDoc(probe);
	if (rc < 0) {
		hb_filter_free(f);
		if (rc == -2)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		return hb_error_set(err, -HB_EINVAL, "%s in '%.200s'", c.any ? c.msg : "cannot be evaluated", expr);
	}
	*out = f;
	return 0;
}

void hb_filter_free(hb_filter *f)
{
	if (f == NULL)
		return;
	xmlXPathFreeCompExpr(f->comp);
	free(f);
}

int hb_filter_eval(const hb_filter *f, xmlDocPtr doc, hb_error *err)
{
	struct capture c;
	int rc = eval(f->comp, doc, &c);

	if (rc == -2)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (rc < 0)
		return hb_error_set(err, -HB_EINVAL, "%s", c.any ? c.msg : "XPath evaluation failed");
	return rc;
}
