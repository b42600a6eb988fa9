/* schema.h -- the XSDs of schema/, embedded at build time, and validation against them. */
#ifndef HB_SCHEMA_H
#define HB_SCHEMA_H

#include <libxml/tree.h>

#include "error.h"

typedef struct hb_schema hb_schema;

/* Compiles the embedded schema file name (e.g. "hook_message.xsd") into *out,
 * freed with hb_schema_free().  -HB_ENOENT when no such schema was built in. */
int hb_schema_load(const char *name, hb_schema **out, hb_error *err);

/* Validates doc; on failure err holds the first violation with its line. */
int hb_schema_validate(hb_schema *s, xmlDocPtr doc, hb_error *err);

/* Frees s; accepts NULL. */
void hb_schema_free(hb_schema *s);

#endif
