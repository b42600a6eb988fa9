/* xml.h -- safe parsing, building, XPath reads and dumping of XML documents (libxml2). */
#ifndef HB_XML_H
#define HB_XML_H

#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "error.h"

/* Parses len bytes as one XML document into *out (freed with xmlFreeDoc).
 * The network is never used, entities are not substituted, and a document
 * type declaration is refused.  Errors say the line and libxml2's reason. */
int hb_xml_parse(const char *buf, size_t len, xmlDocPtr *out, hb_error *err);

/* hb_xml_parse() with the caller's parser context, which it resets first
 * and leaves ready for the next document (lib/xmlcodec.c keeps one). */
int hb_xml_parse_with(xmlParserCtxtPtr ctxt, const char *buf, size_t len, xmlDocPtr *out, hb_error *err);

/* Parses len bytes as an XML fragment of exactly one element and returns a
 * copy of that element, owned by doc, unlinked (the caller links or frees it). */
int hb_xml_parse_element(xmlDocPtr doc, const char *buf, size_t len, xmlNodePtr *out, hb_error *err);

/* Adds to parent a child element named name whose text is text (escaped as
 * needed; NULL means an empty element).  Returns the child, NULL when out of
 * memory. */
xmlNodePtr hb_xml_add(xmlNodePtr parent, const char *name, const char *text);

/* Like hb_xml_add with the text printf-formatted. */
xmlNodePtr hb_xml_addf(xmlNodePtr parent, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Returns the first element child of node named name, or NULL. */
xmlNodePtr hb_xml_child(xmlNodePtr node, const char *name);

/* Returns the text of the first child element of node named name as a new
 * string the caller frees, or NULL when there is no such child. */
char *hb_xml_child_text(xmlNodePtr node, const char *name);

/* Evaluates expr on doc and returns the text of the first node it selects
 * (or the string value of a non-node-set result) as a new string the
 * caller frees; NULL when nothing is selected or expr is invalid. */
char *hb_xml_xpath_str(xmlDocPtr doc, const char *expr);

/* Serializes node (with its descendants) without an XML declaration.
 * Returns a new NUL-terminated string the caller frees and its length in
 * *len (when non-NULL); NULL when out of memory. */
char *hb_xml_dump(xmlNodePtr node, size_t *len);

/* Frees a document; for __attribute__((cleanup)). */
static inline void hb_xml_doc_cleanup(xmlDocPtr *doc)
{
	if (*doc != NULL)
		xmlFreeDoc(*doc);
}
#define hb_autodoc __attribute__((cleanup(hb_xml_doc_cleanup)))

#endif
