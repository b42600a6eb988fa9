/* output.h -- how hookctl prints: aligned tables, "NAME : value" sections, and whole documents as XML or JSON. */
#ifndef HB_CLI_OUTPUT_H
#define HB_CLI_OUTPUT_H

#include <stdio.h>

#include <libxml/tree.h>

#include "error.h"

/* The output formats of the read verbs: onehook's tables, hem's XML (-x), JSON (-j). */
typedef enum hb_format { HB_FORMAT_TABLE, HB_FORMAT_XML, HB_FORMAT_JSON } hb_format;

/* A table of text cells whose columns are as wide as their widest cell. */
typedef struct hb_table hb_table;

/* Creates a table with ncols columns named by headers (which must outlive
 * it); align holds one character per column, 'r' to align it right, 'l'
 * left.  Returns NULL when out of memory; freed with hb_table_free. */
hb_table *hb_table_new(size_t ncols, const char *const *headers, const char *align);

/* Appends a row: copies of the ncols strings of cells (NULL prints as "-"). */
int hb_table_add(hb_table *t, const char *const *cells, hb_error *err);

/* Prints the header line and every row; the last column is not padded. */
void hb_table_print(const hb_table *t, FILE *out);

/* Frees t; accepts NULL. */
void hb_table_free(hb_table *t);

static inline void hb_table_cleanup(hb_table **t)
{
	hb_table_free(*t);
}
#define hb_autotable __attribute__((cleanup(hb_table_cleanup)))

/* Prints a section title ("HOOK 3 INFORMATION"), preceded by a blank line
 * unless first. */
void hb_output_section(FILE *out, int first, const char *title);

/* Prints one "NAME            : value" line of a section (NULL value: "-"). */
void hb_output_field(FILE *out, const char *name, const char *value);

/* Prints the document hem sent in format f (XML or JSON): XML exactly as
 * raw (rawlen bytes) followed by a newline, JSON converted from doc as
 * hb_json_from_xml() does. */
int hb_output_doc(FILE *out, hb_format f, xmlDocPtr doc, const char *raw, size_t rawlen, hb_error *err);

#endif
