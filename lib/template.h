/* template.h -- OpenNebula-syntax templates: NAME = value, quoted values, vectors, comments. */
#ifndef HB_TEMPLATE_H
#define HB_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * Syntax (DESIGN section 4):
 *   NAME = value            bare token: no blanks and none of = # , [ ] "
 *   NAME = "quoted"         may span lines; \" is the only escape
 *   NAME =                  empty value
 *   NAME = [ K = V, K2 = "v" ]   vector (one level, no nesting); may span lines
 *   # comment               to the end of the line, outside quotes
 * Names are [A-Za-z0-9_]+ and are stored upper-case.  A name may repeat; the
 * order of attributes is kept.  Values are kept as written (quotes removed,
 * \" unescaped).  Every parse error names the line and column (1-based).
 */

#define HB_TEMPLATE_MAX_SIZE (1024 * 1024) /* bytes of template text accepted */

typedef struct hb_tpair {
	char *name;   /* upper-case, owned */
	char *value;  /* owned, never NULL ("" when empty) */
} hb_tpair;

typedef struct hb_tattr {
	char *name;       /* upper-case, owned */
	char *value;      /* single attribute: owned, never NULL; vector: NULL */
	hb_tpair *vec;    /* vector attribute: owned array of nvec pairs */
	size_t nvec;
	unsigned line;    /* where the name starts, 1-based */
	unsigned col;
} hb_tattr;

typedef struct hb_template {
	hb_tattr *attrs;  /* owned array */
	size_t n;
	size_t cap;
} hb_template;

/* Parses len bytes of text (need not be NUL-terminated) into a new template
 * stored in *out, which the caller frees with hb_template_free().  On error
 * *out is untouched and err says "line L, column C: what".  Text longer than
 * HB_TEMPLATE_MAX_SIZE is refused. */
int hb_template_parse(const char *text, size_t len, hb_template **out, hb_error *err);

/* Returns a new empty template (NULL when out of memory). */
hb_template *hb_template_new(void);

/* Frees t and everything it owns; accepts NULL. */
void hb_template_free(hb_template *t);

/* Returns the value of the first single attribute named name (any case), or
 * NULL when there is none.  The string belongs to t. */
const char *hb_template_get(const hb_template *t, const char *name);

/* Returns the first attribute named name (any case), single or vector, or
 * NULL.  It belongs to t. */
const hb_tattr *hb_template_find(const hb_template *t, const char *name);

/* Returns the value of key (any case) in vector attribute a, or NULL. */
const char *hb_tattr_vec_get(const hb_tattr *a, const char *key);

/* Counts the attributes named name (any case). */
size_t hb_template_count(const hb_template *t, const char *name);

/* Removes every attribute named name (any case); returns how many. */
size_t hb_template_remove(hb_template *t, const char *name);

/* Appends a single attribute (name is upper-cased, both strings copied). */
int hb_template_add(hb_template *t, const char *name, const char *value, hb_error *err);

/* Replaces every attribute named name with one single attribute. */
int hb_template_set(hb_template *t, const char *name, const char *value, hb_error *err);

/* Appends copies of every attribute of src to dst (for "update --append"
 * semantics the caller first removes from dst the names src carries). */
int hb_template_merge(hb_template *dst, const hb_template *src, hb_error *err);

/* Returns true when name is a valid attribute name ([A-Za-z0-9_]+). */
bool hb_template_name_valid(const char *name);

/* Serializes t back to template text that hb_template_parse() reads to an
 * equal template: bare values where the syntax allows, quoted otherwise,
 * vectors as "NAME=[\n  K=\"V\",\n  ... ]", one attribute per line.  Returns a
 * new NUL-terminated string the caller frees, or NULL when out of memory. */
char *hb_template_to_str(const hb_template *t);

#endif
