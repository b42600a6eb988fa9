/* docs.h -- the XML documents of hem's control API: HOOK, HOOK_POOL, HOOK_EXECUTION_RECORD, HOOKLOG. */
#ifndef HB_DOCS_H
#define HB_DOCS_H

#include <libxml/tree.h>

#include "hookdef.h"
#include "store.h"

/* Appends to parent a HOOK_EXECUTION_RECORD element for e (STDOUT and
 * STDERR base64, as OpenNebula).  Returns it, or NULL when out of memory. */
xmlNodePtr hb_doc_add_record(xmlNodePtr parent, const hb_exec_row *e);

/* Appends to parent a HOOK element for row/def; with_log adds an empty
 * HOOKLOG element, returned through *log. */
xmlNodePtr hb_doc_add_hook(xmlNodePtr parent, const hb_hook_row *row, const hb_hookdef *def,
			   xmlNodePtr *log);

/* Creates a document whose root element is named root; *out_root gets it. */
xmlDocPtr hb_doc_new(const char *root, xmlNodePtr *out_root);

#endif
