/* base64.h -- base64 (standard alphabet, no line breaks) on top of libb64, with strict decoding. */
#ifndef HB_BASE64_H
#define HB_BASE64_H

#include <stddef.h>

#include "error.h"

/* Encodes len bytes of data.  Returns a new NUL-terminated string with no
 * line breaks (the caller frees it) and stores its length in *outlen when
 * outlen is non-NULL; NULL when out of memory. */
char *hb_base64_encode(const void *data, size_t len, size_t *outlen);

/* Decodes len characters of text.  Line breaks (CR, LF) are skipped; any
 * other character outside the standard alphabet, bad padding or a length
 * that is not a whole number of quanta is an error naming the offset.  More
 * than max decoded bytes is -HB_ETOOBIG.  On success *out is a new buffer
 * (NUL-terminated for convenience, the NUL not counted in *outlen) the caller
 * frees. */
int hb_base64_decode(const char *text, size_t len, size_t max, unsigned char **out,
		     size_t *outlen, hb_error *err);

#endif
