/* schema.c -- compiling the embedded XSDs once and validating documents with them. */
#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlschemas.h>

#include "embedded.h"

struct hb_schema {
	xmlSchemaPtr schema;
	xmlSchemaValidCtxtPtr vctxt;
	char first[512];   /* first error of the current validation */
	int nerrors;
};

/* Keeps the first structured error libxml2 reports, with its line. */
static void schema_error(void *data, xmlErrorPtr e)
{
	struct hb_schema *s = data;
	size_t n;

	if (s->nerrors++ > 0 || e == NULL || e->message == NULL)
		return;
	snprintf(s->first, sizeof(s->first), "line %d: %s", e->line, e->message);
	n = strlen(s->first);
	while (n > 0 && (s->first[n - 1] == '\n' || s->first[n - 1] == ' '))
		s->first[--n] = '\0';
}

int hb_schema_load(const char *name, hb_schema **out, hb_error *err)
{
	const struct hb_embedded *t;
	xmlSchemaParserCtxtPtr pctxt;
	struct hb_schema *s;

	for (t = hb_schema_texts; t->name != NULL; t++)
		if (strcmp(t->name, name) == 0)
			break;
	if (t->name == NULL)
		return hb_error_set(err, -HB_ENOENT, "no built-in schema named %s", name);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	pctxt = xmlSchemaNewMemParserCtxt(t->text, (int)t->len);
	if (pctxt == NULL) {
		free(s);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	xmlSchemaSetParserStructuredErrors(pctxt, schema_error, s);
	s->schema = xmlSchemaParse(pctxt);
	xmlSchemaFreeParserCtxt(pctxt);
	if (s->schema == NULL) {
		int rc = hb_error_set(err, -HB_EINVAL, "schema %s does not compile: %s", name, s->first);
		free(s);
		return rc;
	}
	s->vctxt = xmlSchemaNewValidCtxt(s->schema);
	if (s->vctxt == NULL) {
		hb_schema_free(s);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	xmlSchemaSetValidStructuredErrors(s->vctxt, schema_error, s);
	*out = s;
	return 0;
}

int hb_schema_validate(hb_schema *s, xmlDocPtr doc, hb_error *err)
{
	int rc;

	s->nerrors = 0;
	s->first[0] = '\0';
	rc = xmlSchemaValidateDoc(s->vctxt, doc);
	if (rc != 0)
		return hb_error_set(err, -HB_EINVAL, "invalid document: %s",
				    s->first[0] ? s->first : "does not match the schema");
	return 0;
}

void hb_schema_free(hb_schema *s)
{
	if (s == NULL)
		return;
	xmlSchemaFreeValidCtxt(s->vctxt);
	xmlSchemaFree(s->schema);
	free(s);
}
