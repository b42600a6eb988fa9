/* filter.h -- a hook's FILTER: an XPath 1.0 boolean compiled once and evaluated on each HOOK_MESSAGE. */
#ifndef HB_FILTER_H
#define HB_FILTER_H

#include <libxml/tree.h>

#include "error.h"

/* Longest FILTER expression accepted, in bytes. */
#define HB_FILTER_MAX 4096

typedef struct hb_filter hb_filter;

/*
 * Compiles expr (an XPath 1.0 expression, taken as a boolean) into *out,
 * which the caller frees with hb_filter_free().  The expression is also
 * evaluated once on an empty <HOOK_MESSAGE/> so that what only shows at
 * evaluation (an unknown function, a wrong argument count) is refused now
 * rather than on every event.  On error *out is untouched and err carries
 * libxml2's message with the position, e.g. "Invalid expression at
 * character 4 of '//A['" (-HB_EINVAL; -HB_ENOMEM).
 */
int hb_filter_compile(const char *expr, hb_filter **out, hb_error *err);

/* Frees f; accepts NULL. */
void hb_filter_free(hb_filter *f);

/*
 * Evaluates f on doc (a HOOK_MESSAGE, only read): 1 when the expression's
 * boolean value is true, 0 when false, a negative code with err filled when
 * it cannot be evaluated.  libxml2 prints nothing meanwhile.
 */
int hb_filter_eval(const hb_filter *f, xmlDocPtr doc, hb_error *err);

#endif
