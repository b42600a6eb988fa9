/* template.c -- reading and writing OpenNebula-syntax templates: NAME = value, vectors, comments. */
#include "template.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The grammar, as this parser reads it:
 *
 *   template  := { blank | newline | comment | attribute }
 *   attribute := NAME '=' [ value | vector ] [ comment ] ( newline | end )
 *   vector    := '[' { pair ',' } [ pair [ ',' ] ] ']'     (blanks, newlines and
 *                                                           comments between items)
 *   pair      := NAME '=' [ value ]
 *   value     := '"' { any byte but '"', or \" } '"' | bare
 *
 * Blanks are space, tab and carriage return (so CRLF files read as LF ones).
 * A bare value is a run of bytes up to a blank, a newline, '#', '"', '[' or
 * ']', and inside a vector also ','; '=' (and ',' outside vectors) may stand
 * inside a bare value.  Inside quotes \" is read as a quote and carriage
 * returns just before a newline are dropped (CRLF reads as LF); every other
 * byte, backslashes included, is kept as written.
 * NUL bytes are refused anywhere.  The parser never recurses: vectors are one
 * level deep and a '[' where a vector value would start is an error.
 */

/* Where the parser stands in the text, with the 1-based line and column of
 * pos, and the caller's error. */
typedef struct parser {
	const char *s;
	size_t len;
	size_t pos;
	unsigned line;
	unsigned col;
	hb_error *err;
} parser;

#define AT_END (-1)

/* Longest name quoted in an error message, so that messages stay one line. */
#define MSG_NAME_MAX 64

static int peek(const parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : AT_END;
}

static void advance(parser *p)
{
	if (p->pos >= p->len)
		return;
	if (p->s[p->pos] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->pos++;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool is_name_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Describes the byte c (or the end of the text) for an error message. */
static void describe(int c, char *buf, size_t size)
{
	if (c == AT_END)
		snprintf(buf, size, "end of input");
	else if (c == '\n')
		snprintf(buf, size, "end of line");
	else if (c == '\'')
		snprintf(buf, size, "\"'\"");
	else if (c > ' ' && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", (unsigned)c);
}

/* Fills p's error with "line L, column C: " and the formatted text, and
 * returns -HB_EINVAL. */
static int __attribute__((format(printf, 4, 5)))
parse_error(parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	char what[HB_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hb_error_set(p->err, -HB_EINVAL, "line %u, column %u: %s", line, col, what);
}

static int oom(hb_error *err)
{
	return hb_error_set(err, -HB_ENOMEM, "out of memory");
}

/* Computes the 1-based line and column of byte off of s. */
static void locate(const char *s, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Returns a new NUL-terminated copy of the n bytes at s, or NULL. */
static char *copy_bytes(const char *s, size_t n)
{
	char *c = malloc(n + 1);

	if (c == NULL)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

/* Returns a new upper-cased copy of the n bytes at s, or NULL. */
static char *copy_upper(const char *s, size_t n)
{
	char *c = copy_bytes(s, n);

	if (c != NULL)
		for (size_t i = 0; i < n; i++)
			c[i] = upper(c[i]);
	return c;
}

/* Makes room for at least need elements of size elem in *arr (capacity
 * *cap), doubling; returns false when out of memory (leaving *arr as it was). */
static bool reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *na;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap : 8;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return false;
		ncap *= 2;
	}
	na = realloc(*arr, ncap * elem);
	if (na == NULL)
		return false;
	*arr = na;
	*cap = ncap;
	return true;
}

static void tpairs_free(hb_tpair *vec, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(vec[i].name);
		free(vec[i].value);
	}
	free(vec);
}

/* Frees what attribute a owns and leaves it empty. */
static void tattr_clear(hb_tattr *a)
{
	free(a->name);
	free(a->value);
	tpairs_free(a->vec, a->nvec);
	memset(a, 0, sizeof(*a));
}

/* Skips blanks (not newlines). */
static void skip_blanks(parser *p)
{
	while (is_blank(peek(p)))
		advance(p);
}

/* Skips a comment up to (not including) the end of its line. */
static void skip_comment(parser *p)
{
	if (peek(p) != '#')
		return;
	while (peek(p) != AT_END && peek(p) != '\n')
		advance(p);
}

/* Skips blanks, newlines and comments. */
static void skip_space(parser *p)
{
	for (;;) {
		int c = peek(p);

		if (is_blank(c) || c == '\n')
			advance(p);
		else if (c == '#')
			skip_comment(p);
		else
			return;
	}
}

/* Reads a NAME followed by blanks and '=' and leaves p after the '='.
 * owner is NULL for a top-level attribute, else the vector's name (for
 * messages).  *out receives the upper-cased name, which the caller frees. */
static int parse_name_eq(parser *p, const char *owner, char **out)
{
	unsigned line = p->line, col = p->col;
	size_t start = p->pos;
	char found[32];
	char *name;
	int c = peek(p);

	describe(c, found, sizeof(found));
	if (!is_name_char(c)) {
		if (c == ',')
			return owner ? parse_error(p, line, col, "stray ',' in vector %.*s", MSG_NAME_MAX, owner)
				     : parse_error(p, line, col, "stray ',' where an attribute name was expected");
		if (c == '=')
			return parse_error(p, line, col, "missing attribute name before '='");
		if (c == '[' && owner != NULL)
			return parse_error(p, line, col, "nested vectors are not supported");
		return parse_error(p, line, col, "expected an attribute name, found %s", found);
	}
	while (is_name_char(peek(p)))
		advance(p);
	c = peek(p);
	if (c != AT_END && c != '\n' && c != '=' && c != '#' && c != ',' && c != ']' && !is_blank(c)) {
		describe(c, found, sizeof(found));
		return parse_error(p, p->line, p->col,
				   "invalid character %s in attribute name (names are letters, digits and '_')",
				   found);
	}
	name = copy_upper(p->s + start, p->pos - start);
	if (name == NULL)
		return oom(p->err);
	skip_blanks(p);
	c = peek(p);
	if (c != '=') {
		int rc;

		describe(c, found, sizeof(found));
		if (c == AT_END || c == '\n' || c == '#')
			rc = parse_error(p, p->line, p->col, "missing '=' after %.*s", MSG_NAME_MAX, name);
		else
			rc = parse_error(p, p->line, p->col, "expected '=' after %.*s, found %s",
					 MSG_NAME_MAX, name, found);
		free(name);
		return rc;
	}
	advance(p);
	*out = name;
	return 0;
}

/* Reads a quoted value whose opening quote is at p, unescaping \" and
 * dropping carriage returns before a newline; *out receives the new value. */
static int parse_quoted(parser *p, char **out)
{
	unsigned line = p->line, col = p->col;
	size_t end, n = 0;
	char *v;

	/* Find the closing quote first so that the value is allocated once. */
	for (end = p->pos + 1; end < p->len; end++) {
		if (p->s[end] == '\\' && end + 1 < p->len && p->s[end + 1] == '"')
			end++;
		else if (p->s[end] == '"')
			break;
	}
	if (end >= p->len)
		return parse_error(p, line, col, "unterminated quoted value (the quote opened here)");
	v = malloc(end - p->pos);
	if (v == NULL)
		return oom(p->err);
	advance(p);
	while (p->pos < end) {
		char ch = p->s[p->pos];

		if (ch == '\\' && p->s[p->pos + 1] == '"') {
			advance(p);
		} else if (ch == '\r') {
			/* Take the whole run of CRs at once, kept unless a newline follows. */
			size_t k = p->pos;
			bool keep;

			while (k < end && p->s[k] == '\r')
				k++;
			keep = k == end || p->s[k] != '\n';
			for (; p->pos < k; advance(p))
				if (keep)
					v[n++] = '\r';
			continue;
		}
		v[n++] = p->s[p->pos];
		advance(p);
	}
	advance(p);
	v[n] = '\0';
	*out = v;
	return 0;
}

/* Reads a bare value (possibly empty) at p; in_vector makes ',' end it. */
static int parse_bare(parser *p, bool in_vector, char **out)
{
	size_t start = p->pos;

	for (;;) {
		int c = peek(p);

		if (c == AT_END || c == '\n' || is_blank(c) || c == '#' || c == '"' || c == '[' ||
		    c == ']' || (in_vector && c == ','))
			break;
		advance(p);
	}
	*out = copy_bytes(p->s + start, p->pos - start);
	return *out ? 0 : oom(p->err);
}

/* Reads the vector whose '[' is at p into a->vec; a->name names it. */
static int parse_vector(parser *p, hb_tattr *a)
{
	unsigned oline = p->line, ocol = p->col;
	size_t cap = 0;
	char found[32];
	int rc;

	advance(p);
	for (;;) {
		hb_tpair pair = { NULL, NULL };
		int c;

		skip_space(p);
		c = peek(p);
		if (c == AT_END)
			return parse_error(p, oline, ocol, "missing ']' to close the vector %.*s opened here",
					   MSG_NAME_MAX, a->name);
		if (c == ']') {
			advance(p);
			return 0;
		}
		rc = parse_name_eq(p, a->name, &pair.name);
		if (rc < 0)
			return rc;
		skip_blanks(p);
		c = peek(p);
		if (c == '[')
			rc = parse_error(p, p->line, p->col, "nested vectors are not supported");
		else if (c == '"')
			rc = parse_quoted(p, &pair.value);
		else
			rc = parse_bare(p, true, &pair.value);
		if (rc == 0 && !reserve((void **)&a->vec, &cap, a->nvec + 1, sizeof(*a->vec)))
			rc = oom(p->err);
		if (rc < 0) {
			free(pair.name);
			free(pair.value);
			return rc;
		}
		a->vec[a->nvec++] = pair;

		skip_space(p);
		c = peek(p);
		if (c == ',') {
			advance(p);
		} else if (c == AT_END) {
			return parse_error(p, oline, ocol, "missing ']' to close the vector %.*s opened here",
					   MSG_NAME_MAX, a->name);
		} else if (c != ']') {
			describe(c, found, sizeof(found));
			return parse_error(p, p->line, p->col,
					   "expected ',' or ']' after %.*s in the vector %.*s (opened at line %u, column %u), found %s",
					   MSG_NAME_MAX, a->vec[a->nvec - 1].name, MSG_NAME_MAX, a->name,
					   oline, ocol, found);
		}
	}
}

/* Reads one top-level attribute, from its name to the end of its line,
 * into *a (which the caller clears on error too). */
static int parse_attribute(parser *p, hb_tattr *a)
{
	char found[32];
	int rc, c;

	a->line = p->line;
	a->col = p->col;
	rc = parse_name_eq(p, NULL, &a->name);
	if (rc < 0)
		return rc;
	skip_blanks(p);
	c = peek(p);
	if (c == '[')
		rc = parse_vector(p, a);
	else if (c == '"')
		rc = parse_quoted(p, &a->value);
	else
		rc = parse_bare(p, false, &a->value);
	if (rc < 0)
		return rc;
	skip_blanks(p);
	skip_comment(p);
	c = peek(p);
	if (c != AT_END && c != '\n') {
		describe(c, found, sizeof(found));
		return parse_error(p, p->line, p->col,
				   "unexpected %s after the value of %.*s (one attribute per line; "
				   "quote values with blanks or any of #[]\")",
				   found, MSG_NAME_MAX, a->name);
	}
	return 0;
}

/* Appends *a to t, taking what it owns (and clearing *a); returns false when
 * out of memory, leaving *a with the caller. */
static bool push_attr(hb_template *t, hb_tattr *a)
{
	if (!reserve((void **)&t->attrs, &t->cap, t->n + 1, sizeof(*t->attrs)))
		return false;
	t->attrs[t->n++] = *a;
	memset(a, 0, sizeof(*a));
	return true;
}

int hb_template_parse(const char *text, size_t len, hb_template **out, hb_error *err)
{
	parser p = { text, len, 0, 1, 1, err };
	const char *nul;
	hb_template *t;
	unsigned line, col;

	if (text == NULL && len > 0)
		return hb_error_set(err, -HB_EINVAL, "line 1, column 1: no template text");
	if (len > HB_TEMPLATE_MAX_SIZE) {
		locate(text, HB_TEMPLATE_MAX_SIZE, &line, &col);
		return hb_error_set(err, -HB_ETOOBIG,
				    "line %u, column %u: template larger than the limit of %d bytes",
				    line, col, HB_TEMPLATE_MAX_SIZE);
	}
	nul = len ? memchr(text, '\0', len) : NULL;
	if (nul != NULL) {
		locate(text, (size_t)(nul - text), &line, &col);
		return parse_error(&p, line, col, "NUL byte in template");
	}
	t = hb_template_new();
	if (t == NULL)
		return oom(err);
	for (;;) {
		hb_tattr a;
		int rc;

		skip_space(&p);
		if (peek(&p) == AT_END)
			break;
		memset(&a, 0, sizeof(a));
		rc = parse_attribute(&p, &a);
		if (rc == 0 && !push_attr(t, &a))
			rc = oom(err);
		if (rc < 0) {
			tattr_clear(&a);
			hb_template_free(t);
			return rc;
		}
	}
	*out = t;
	return 0;
}

hb_template *hb_template_new(void)
{
	return calloc(1, sizeof(hb_template));
}

void hb_template_free(hb_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		tattr_clear(&t->attrs[i]);
	free(t->attrs);
	free(t);
}

const char *hb_template_get(const hb_template *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->attrs[i].value != NULL && strcasecmp(t->attrs[i].name, name) == 0)
			return t->attrs[i].value;
	return NULL;
}

const hb_tattr *hb_template_find(const hb_template *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->attrs[i].name, name) == 0)
			return &t->attrs[i];
	return NULL;
}

const char *hb_tattr_vec_get(const hb_tattr *a, const char *key)
{
	for (size_t i = 0; i < a->nvec; i++)
		if (strcasecmp(a->vec[i].name, key) == 0)
			return a->vec[i].value;
	return NULL;
}

size_t hb_template_count(const hb_template *t, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		if (strcasecmp(t->attrs[i].name, name) == 0)
			n++;
	return n;
}

/* Removes the attributes named name, except the first one when keep_first;
 * returns how many were removed. */
static size_t remove_named(hb_template *t, const char *name, bool keep_first)
{
	size_t kept = 0, removed = 0;
	bool seen = false;

	for (size_t i = 0; i < t->n; i++) {
		if (strcasecmp(t->attrs[i].name, name) == 0 && (seen || !keep_first)) {
			tattr_clear(&t->attrs[i]);
			removed++;
			continue;
		}
		if (strcasecmp(t->attrs[i].name, name) == 0)
			seen = true;
		t->attrs[kept++] = t->attrs[i];
	}
	t->n = kept;
	return removed;
}

size_t hb_template_remove(hb_template *t, const char *name)
{
	return remove_named(t, name, false);
}

/* Whether v can be written as a bare value and read back as itself: it is
 * not empty and holds none of the bytes that end one. */
static bool bare_ok(const char *v, bool in_vector)
{
	if (*v == '\0')
		return false;
	for (; *v; v++)
		if (is_blank((unsigned char)*v) || strchr("\n#\"[]", *v) != NULL || (in_vector && *v == ','))
			return false;
	return true;
}

/* Whether v reads better quoted: it is empty or holds a control byte, a
 * blank or any of =#,[]" (the bare token of the documented syntax). */
static bool quotes_preferred(const char *v)
{
	if (*v == '\0')
		return true;
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= ' ' || c == 0x7f || strchr("#\"[]=,", c) != NULL)
			return true;
	}
	return false;
}

/* Whether v ends with a backslash, which quotes cannot enclose (the closing
 * quote would read as escaped). */
static bool ends_with_backslash(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && v[n - 1] == '\\';
}

/* Checks that name and value can be stored and written back as text: the
 * name must be valid, and a value that needs quotes may not end with a
 * backslash (the syntax would read the closing quote as escaped). */
static int check_single(const char *name, const char *value, hb_error *err)
{
	if (!hb_template_name_valid(name))
		return hb_error_set(err, -HB_EINVAL,
				    "invalid attribute name '%.*s' (names are letters, digits and '_')",
				    MSG_NAME_MAX, name ? name : "");
	if (value == NULL)
		return hb_error_set(err, -HB_EINVAL, "attribute %.*s has no value", MSG_NAME_MAX, name);
	if (ends_with_backslash(value) && !bare_ok(value, false))
		return hb_error_set(err, -HB_EINVAL,
				    "value of %.*s cannot be written in template syntax: it needs quotes and ends with '\\'",
				    MSG_NAME_MAX, name);
	return 0;
}

/* Fills *a with copies of name (upper-cased) and value. */
static int single_new(const char *name, const char *value, hb_tattr *a, hb_error *err)
{
	int rc = check_single(name, value, err);

	if (rc < 0)
		return rc;
	memset(a, 0, sizeof(*a));
	a->name = copy_upper(name, strlen(name));
	a->value = strdup(value);
	if (a->name == NULL || a->value == NULL) {
		tattr_clear(a);
		return oom(err);
	}
	return 0;
}

int hb_template_add(hb_template *t, const char *name, const char *value, hb_error *err)
{
	hb_tattr a;
	int rc = single_new(name, value, &a, err);

	if (rc < 0)
		return rc;
	if (!push_attr(t, &a)) {
		tattr_clear(&a);
		return oom(err);
	}
	return 0;
}

int hb_template_set(hb_template *t, const char *name, const char *value, hb_error *err)
{
	hb_tattr a;
	int rc = single_new(name, value, &a, err);

	if (rc < 0)
		return rc;
	/* The new attribute takes the place of the first old one, if any. */
	remove_named(t, name, true);
	for (size_t i = 0; i < t->n; i++) {
		if (strcasecmp(t->attrs[i].name, name) == 0) {
			a.line = t->attrs[i].line;
			a.col = t->attrs[i].col;
			tattr_clear(&t->attrs[i]);
			t->attrs[i] = a;
			return 0;
		}
	}
	if (!push_attr(t, &a)) {
		tattr_clear(&a);
		return oom(err);
	}
	return 0;
}

/* Fills *dst with a deep copy of *src; returns false when out of memory
 * (leaving *dst empty). */
static bool tattr_copy(hb_tattr *dst, const hb_tattr *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->line = src->line;
	dst->col = src->col;
	dst->name = strdup(src->name);
	if (dst->name == NULL)
		return false;
	if (src->value != NULL) {
		dst->value = strdup(src->value);
		if (dst->value == NULL)
			goto fail;
		return true;
	}
	if (src->nvec == 0)
		return true;
	dst->vec = calloc(src->nvec, sizeof(*dst->vec));
	if (dst->vec == NULL)
		goto fail;
	for (size_t i = 0; i < src->nvec; i++) {
		dst->nvec++;
		dst->vec[i].name = strdup(src->vec[i].name);
		dst->vec[i].value = strdup(src->vec[i].value);
		if (dst->vec[i].name == NULL || dst->vec[i].value == NULL)
			goto fail;
	}
	return true;
fail:
	tattr_clear(dst);
	return false;
}

int hb_template_merge(hb_template *dst, const hb_template *src, hb_error *err)
{
	size_t n0 = dst->n, count = src->n;

	/* src may be dst itself: count is taken before anything is appended. */
	if (!reserve((void **)&dst->attrs, &dst->cap, n0 + count, sizeof(*dst->attrs)))
		return oom(err);
	for (size_t i = 0; i < count; i++) {
		if (!tattr_copy(&dst->attrs[dst->n], &src->attrs[i])) {
			while (dst->n > n0)
				tattr_clear(&dst->attrs[--dst->n]);
			return oom(err);
		}
		dst->n++;
	}
	return 0;
}

bool hb_template_name_valid(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (; *name; name++)
		if (!is_name_char((unsigned char)*name))
			return false;
	return true;
}

/* A growing output string; failed records that an allocation failed. */
typedef struct strbuf {
	char *s;
	size_t n;
	size_t cap;
	bool failed;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > SIZE_MAX - b->n - 1 || !reserve((void **)&b->s, &b->cap, b->n + n + 1, 1)) {
		b->failed = true;
		return;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_puts(strbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* Writes v bare when it reads as well that way, else quoted with '"'
 * escaped; a value that ends with a backslash is written bare when it can be
 * (the parser produces no other kind). */
static void sb_value(strbuf *b, const char *v, bool in_vector)
{
	if (!quotes_preferred(v) || (ends_with_backslash(v) && bare_ok(v, in_vector))) {
		sb_puts(b, v);
		return;
	}
	sb_put(b, "\"", 1);
	for (const char *q; (q = strchr(v, '"')) != NULL; v = q + 1) {
		sb_put(b, v, (size_t)(q - v));
		sb_put(b, "\\\"", 2);
	}
	sb_puts(b, v);
	sb_put(b, "\"", 1);
}

/*
 * Writes one attribute per line: NAME=value for single attributes and
 * NAME=[\n  K=V,\n  K2=V2 ]\n for vectors.  Every template built by the parser
 * and the functions above reads back equal, with one exception the syntax
 * imposes: carriage returns before a newline inside a value are not read back.
 */
char *hb_template_to_str(const hb_template *t)
{
	strbuf b = { NULL, 0, 0, false };

	sb_put(&b, "", 0);
	for (size_t i = 0; i < t->n; i++) {
		const hb_tattr *a = &t->attrs[i];

		sb_puts(&b, a->name);
		sb_put(&b, "=", 1);
		if (a->value != NULL) {
			sb_value(&b, a->value, false);
			sb_put(&b, "\n", 1);
			continue;
		}
		sb_put(&b, "[", 1);
		for (size_t j = 0; j < a->nvec; j++) {
			sb_puts(&b, j ? ",\n  " : "\n  ");
			sb_puts(&b, a->vec[j].name);
			sb_put(&b, "=", 1);
			sb_value(&b, a->vec[j].value, true);
		}
		sb_puts(&b, " ]\n");
	}
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
