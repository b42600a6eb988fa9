/* output.c -- hookctl's tables, sections and XML/JSON documents on standard output. */
#include "output.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xmljson.h"

struct hb_table {
	size_t ncols, nrows, cap;
	const char *const *headers;
	char *align;
	char **cells;     /* nrows * ncols, row-major */
	size_t *width;    /* per column, in characters */
};

/* Characters (UTF-8 code points) of s, which is what a terminal shows. */
static size_t text_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

hb_table *hb_table_new(size_t ncols, const char *const *headers, const char *align)
{
	hb_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	t->headers = headers;
	t->align = strdup(align);
	t->width = calloc(ncols, sizeof(*t->width));
	if (t->align == NULL || t->width == NULL) {
		hb_table_free(t);
		return NULL;
	}
	for (size_t c = 0; c < ncols; c++)
		t->width[c] = text_width(headers[c]);
	return t;
}

int hb_table_add(hb_table *t, const char *const *cells, hb_error *err)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));
		if (n == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		t->cells = n;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = strdup(cells[c] ? cells[c] : "-");
		size_t w;
		if (s == NULL) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->nrows * t->ncols + k]);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		t->cells[t->nrows * t->ncols + c] = s;
		w = text_width(s);
		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
	return 0;
}

static void print_row(const hb_table *t, const char *const *cells, FILE *out)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t pad = t->width[c] - text_width(cells[c]);
		bool last = c + 1 == t->ncols;
		if (c > 0)
			fputc(' ', out);
		if (t->align[c] == 'r')
			fprintf(out, "%*s%s", (int)pad, "", cells[c]);
		else
			fprintf(out, "%s%*s", cells[c], last ? 0 : (int)pad, "");
	}
	fputc('\n', out);
}

void hb_table_print(const hb_table *t, FILE *out)
{
	print_row(t, t->headers, out);
	for (size_t r = 0; r < t->nrows; r++)
		print_row(t, (const char *const *)&t->cells[r * t->ncols], out);
}

void hb_table_free(hb_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->align);
	free(t);
}

void hb_output_section(FILE *out, int first, const char *title)
{
	if (!first)
		fputc('\n', out);
	fprintf(out, "%s\n", title);
}

void hb_output_field(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%-20s: %s\n", name, value ? value : "-");
}

int hb_output_doc(FILE *out, hb_format f, xmlDocPtr doc, const char *raw, size_t rawlen, hb_error *err)
{
	json_t *j = NULL;
	int rc;

	if (f == HB_FORMAT_XML) {
		fwrite(raw, 1, rawlen, out);
		fputc('\n', out);
		return 0;
	}
	rc = hb_json_from_xml(xmlDocGetRootElement(doc), &j, err);
	if (rc < 0)
		return rc;
	rc = json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (rc < 0)
		return hb_error_set(err, -HB_EIO, "cannot write the JSON document");
	fputc('\n', out);
	return 0;
}
