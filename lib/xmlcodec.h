/* xmlcodec.h -- a parser and a serializer kept from one document to the next, for a daemon's stream of them. */
#ifndef HB_XMLCODEC_H
#define HB_XMLCODEC_H

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

#endif
