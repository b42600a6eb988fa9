/* xmlcodec.c -- a parser and a serializer kept from one document to the next, for a daemon's stream of them. */
#include "xmlcodec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "xml.h"

/* The parser context interns element names and short texts in a dictionary
 * that lives as long as it does; past these bounds it is replaced, so that
 * documents full of distinct names cannot grow the daemon without end. */
#define DICT_ENTRIES_MAX 10000
#define DICT_BYTES_MAX (1u << 20)
/* The serializer's buffer is given back past this size. */
#define OUT_KEEP_MAX (1u << 20)

struct hb_xml_codec {
	xmlParserCtxtPtr parser;   /* NULL until the next parse makes one */
	xmlSaveCtxtPtr save;       /* NULL until the next dump makes one */
	char *out;                 /* what the save context wrote */
	size_t len, cap;
	bool failed;               /* a write could not be kept: the save context is spent */
};

int hb_xml_codec_new(hb_xml_codec **out, hb_error *err)
{
	hb_xml_codec *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	*out = c;
	return 0;
}

void hb_xml_codec_free(hb_xml_codec *c)
{
	if (c == NULL)
		return;
	xmlFreeParserCtxt(c->parser);
	if (c->save != NULL)
		xmlSaveClose(c->save);
	free(c->out);
	free(c);
}

int hb_xml_codec_parse(hb_xml_codec *c, const char *buf, size_t len, xmlDocPtr *out, hb_error *err)
{
	xmlDictPtr dict;
	int rc;

	if (c->parser == NULL && (c->parser = xmlNewParserCtxt()) == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = hb_xml_parse_with(c->parser, buf, len, out, err);
	dict = c->parser->dict;
	if (dict != NULL && (xmlDictSize(dict) > DICT_ENTRIES_MAX || xmlDictGetUsage(dict) > DICT_BYTES_MAX)) {
		xmlFreeParserCtxt(c->parser);
		c->parser = NULL;
	}
	return rc;
}

/* The save context's output: appended to c->out. */
static int codec_write(void *ctx, const char *buf, int len)
{
	hb_xml_codec *c = ctx;

	if (len < 0)
		return -1;
	if (c->len + (size_t)len + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *p;
		while (cap < c->len + (size_t)len + 1)
			cap *= 2;
		p = realloc(c->out, cap);
		if (p == NULL) {
			c->failed = true;
			return -1;
		}
		c->out = p;
		c->cap = cap;
	}
	memcpy(c->out + c->len, buf, (size_t)len);
	c->len += (size_t)len;
	return len;
}

const char *hb_xml_codec_dump(hb_xml_codec *c, xmlNodePtr node, size_t *len)
{
	c->len = 0;
	if (c->save == NULL) {
		c->failed = false;
		c->save = xmlSaveToIO(codec_write, NULL, c, "UTF-8", XML_SAVE_NO_DECL);
		if (c->save == NULL)
			return NULL;
	}
	if (xmlSaveTree(c->save, node) < 0 || xmlSaveFlush(c->save) < 0 || c->failed || c->out == NULL) {
		/* An output buffer that failed once refuses every later write. */
		xmlSaveClose(c->save);
		c->save = NULL;
		return NULL;
	}
	c->out[c->len] = '\0';
	if (len != NULL)
		*len = c->len;
	if (c->cap > OUT_KEEP_MAX && c->len < OUT_KEEP_MAX / 4) {
		/* A rare large document leaves no large buffer behind for good:
		 * the next dump starts from a small one. */
		char *p = realloc(c->out, c->len + 1);
		if (p != NULL) {
			c->out = p;
			c->cap = c->len + 1;
		}
	}
	return c->out;
}

static bool name_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool name_char(char ch)
{
	return name_start(ch) || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

/* The length of the name at x[i..n), 0 when there is none. */
static size_t name_len(const char *x, size_t i, size_t n)
{
	size_t j = i;

	if (j >= n || !name_start(x[j]))
		return 0;
	while (j < n && name_char(x[j]))
		j++;
	return j - i;
}

static bool name_is(const char *x, size_t i, size_t nlen, const char *name)
{
	return strlen(name) == nlen && memcmp(x + i, name, nlen) == 0;
}

/* The length of the reference at x[i..n) (x[i] is '&') when it is one that
 * the serializer writes itself, else 0. */
static size_t ref_len(const char *x, size_t i, size_t n)
{
	static const char *const refs[] = { "&lt;", "&gt;", "&amp;", "&#13;" };

	for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
		size_t l = strlen(refs[r]);
		if (n - i >= l && memcmp(x + i, refs[r], l) == 0)
			return l;
	}
	return 0;
}

bool hb_xml_codec_verbatim(const char *xml, size_t len, const char *child, const char *skip, size_t *after)
{
	size_t i = 0, depth = 0, found = 0;
	bool open_last = false, done = false;

	if (len == 0 || xml[0] != '<')
		return false;
	while (i < len) {
		if (xml[i] != '<') {
			/* Text, only inside the root. */
			if (depth == 0)
				return false;
			const char *lt = memchr(xml + i, '<', len - i);
			size_t end = lt ? (size_t)(lt - xml) : len;
			const char *amp;
			if (memchr(xml + i, '>', end - i) != NULL || memchr(xml + i, '\r', end - i) != NULL)
				return false;
			while ((amp = memchr(xml + i, '&', end - i)) != NULL) {
				size_t r = ref_len(xml, (size_t)(amp - xml), end);
				if (r == 0)
					return false;
				i = (size_t)(amp - xml) + r;
			}
			i = end;
			open_last = false;
			continue;
		}
		if (done)
			return false;
		if (i + 1 < len && xml[i + 1] == '/') {
			size_t nl = name_len(xml, i + 2, len);
			/* <A></A> comes back as <A/>. */
			if (nl == 0 || open_last || i + 2 + nl >= len || xml[i + 2 + nl] != '>' || depth == 0)
				return false;
			depth--;
			if (depth == 1 && found == 0 && name_is(xml, i + 2, nl, child))
				found = i + 3 + nl;
			i += 3 + nl;
			done = depth == 0;
			open_last = false;
		} else {
			size_t nl = name_len(xml, i + 1, len), end = i + 1 + nl;
			if (nl == 0 || end >= len)
				return false;
			if (depth == 1 && name_is(xml, i + 1, nl, skip))
				return false;
			if (xml[end] == '>') {
				depth++;
				open_last = true;
				i = end + 1;
			} else if (xml[end] == '/' && end + 1 < len && xml[end + 1] == '>') {
				if (depth == 1 && found == 0 && name_is(xml, i + 1, nl, child))
					found = end + 2;
				done = depth == 0;
				open_last = false;
				i = end + 2;
			} else {
				return false;
			}
		}
	}
	if (!done)
		return false;
	*after = found;
	return true;
}
