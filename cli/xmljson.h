/* xmljson.h -- hem's XML documents as JSON that mirrors them (element names as keys), built with jansson. */
#ifndef HB_CLI_XMLJSON_H
#define HB_CLI_XMLJSON_H

#include <jansson.h>
#include <libxml/tree.h>

#include "error.h"

/*
 * Converts the element root into {"ROOT": value} in *out (the caller
 * releases it with json_decref).  An element with element children (or one
 * of hem's containers: HOOK_POOL, HOOK, TEMPLATE, HOOKLOG, LOCK,
 * HOOK_EXECUTION_RECORD, EXECUTION_RESULT) becomes an object keyed by its
 * children's names in document order, repeated names gathering into an array;
 * any other element becomes its text as a string.  HOOK under HOOK_POOL and
 * HOOK_EXECUTION_RECORD under HOOKLOG are always arrays, even of one or none.
 * STDOUT and STDERR of an EXECUTION_RESULT are base64-decoded to text (bytes
 * that are not UTF-8 become U+FFFD); bad base64 is -HB_EIO.
 */
int hb_json_from_xml(xmlNodePtr root, json_t **out, hb_error *err);

/* Returns a new string holding the len bytes of s with every byte that is not
 * part of a valid UTF-8 sequence replaced by U+FFFD (NUL bytes are kept); the
 * caller frees it, *outlen is its length.  NULL when out of memory. */
char *hb_utf8_sanitize(const unsigned char *s, size_t len, size_t *outlen);

#endif
