/* xmlcodec.h -- a parser and a serializer kept from one document to the next, for a daemon's stream of them. */
#ifndef HB_XMLCODEC_H
#define HB_XMLCODEC_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "error.h"

/* A libxml2 parser context and save context, reused for every document that
 * goes through them instead of being set up and torn down for each (their
 * set-up is a good part of parsing and serializing a small document).  One
 * codec serves one thread. */
typedef struct hb_xml_codec hb_xml_codec;

/* Returns a new codec in *out, freed with hb_xml_codec_free(). */
int hb_xml_codec_new(hb_xml_codec **out, hb_error *err);

/* Frees c and what it keeps; accepts NULL.  Documents it parsed may still
 * be freed afterwards. */
void hb_xml_codec_free(hb_xml_codec *c);

/* Parses exactly as hb_xml_parse() does (same options, same refusals, same
 * error messages), with c's parser context. */
int hb_xml_codec_parse(hb_xml_codec *c, const char *buf, size_t len, xmlDocPtr *out, hb_error *err);

/* Serializes node exactly as hb_xml_dump() does, into c's own buffer.
 * Returns the NUL-terminated text and its length in *len; the text belongs
 * to c and stays valid until c's next dump or its free.  NULL when out of
 * memory. */
const char *hb_xml_codec_dump(hb_xml_codec *c, xmlNodePtr node, size_t *len);

/* Whether xml, once parsed, serializes back to itself byte for byte with
 * hb_xml_codec_dump(), so that it can stand for its own serialization.  The
 * judgment is conservative and meant for documents that libxml2 wrote: a
 * root element and nothing around it; elements without attributes or
 * namespaces, with ASCII names; no empty element written as an open and a
 * close tag; text with no '>' and no carriage return, whose only references
 * are the &lt; &gt; &amp; and &#13; that the serializer writes; no comment,
 * processing instruction, CDATA or declaration.  Anything else is answered
 * false (the caller serializes).  It does not check well-formedness: xml
 * must be a document that the parser accepted.  When the answer is true,
 * *after is the offset just past the root's first child element named
 * child (0 when there is none) and the root has no child element named
 * skip. */
bool hb_xml_codec_verbatim(const char *xml, size_t len, const char *child, const char *skip, size_t *after);

#endif
