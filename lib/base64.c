/* base64.c -- libb64 wrapped: no line breaks out, nothing but well-formed base64 in. */
#include "base64.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <b64/cdecode.h>
#include <b64/cencode.h>

/* libb64 ends every line of 72 characters (54 input bytes) with a newline.
 * Fed a whole line at a time from a fresh line, it writes that newline last,
 * where the next line's text overwrites it: no pass over the text to take
 * the line breaks out. */
#define B64_LINE_IN 54

char *hb_base64_encode(const void *data, size_t len, size_t *outlen)
{
	base64_encodestate st;
	size_t n = 0;
	char *buf;
	const char *p = data;

	/* The text, then room for the newline libb64 writes after it. */
	buf = malloc((len + 2) / 3 * 4 + 2);
	if (buf == NULL)
		return NULL;
	base64_init_encodestate(&st);
	while (len > 0) {
		int chunk = len > B64_LINE_IN ? B64_LINE_IN : (int)len;
		n += (size_t)base64_encode_block(p, chunk, buf + n, &st);
		if (buf[n - 1] == '\n')
			n--;
		p += chunk;
		len -= (size_t)chunk;
	}
	n += (size_t)base64_encode_blockend(buf + n, &st);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return buf;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Checks the shape of the base64 text before libb64 (which skips what it does
 * not know) decodes it: alphabet, padding only at the end, whole quanta, and
 * zero bits where padding leaves unused ones. */
static int b64_check(const char *text, size_t len, size_t *chars, hb_error *err)
{
	size_t n = 0, pad = 0;
	int last = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			n++;
			continue;
		}
		if (pad > 0)
			return hb_error_set(err, -HB_EINVAL, "invalid base64: data after padding at offset %zu", i);
		last = b64_value(c);
		if (last < 0)
			return hb_error_set(err, -HB_EINVAL, "invalid base64: unexpected character 0x%02x at offset %zu", c, i);
		n++;
	}
	if (n == 0)
		return hb_error_set(err, -HB_EINVAL, "invalid base64: empty");
	if (n % 4 != 0)
		return hb_error_set(err, -HB_EINVAL, "invalid base64: length %zu is not a multiple of 4", n);
	if (pad > 2)
		return hb_error_set(err, -HB_EINVAL, "invalid base64: too much padding");
	if ((pad == 1 && (last & 0x3)) || (pad == 2 && (last & 0xf)))
		return hb_error_set(err, -HB_EINVAL, "invalid base64: non-canonical final quantum");
	*chars = n;
	return 0;
}

/* The number of bytes libb64 decodes from len characters of text that has
 * no line breaks and whose only '=' are its pad final ones: every character
 * but those carries 6 bits. */
static size_t b64_expected(size_t len, size_t pad)
{
	return (len - pad) * 6 / 8;
}

/* Whether text has the shape the fast path takes: whole quanta ending in at
 * most two '=' (*pad, their number).  What it holds before them is left to
 * the decoded length. */
static bool b64_fast_shape(const char *text, size_t len, size_t *pad)
{
	size_t n = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	while (n < 3 && text[len - 1 - n] == '=')
		n++;
	*pad = n;
	return n <= 2;
}

/* Whether the bits that padding leaves unused in the final quantum are zero
 * (the character before the padding is then the only one to look at). */
static bool b64_canonical_end(const char *text, size_t len, size_t pad)
{
	int last;

	if (pad == 0)
		return true;
	last = b64_value((unsigned char)text[len - 1 - pad]);
	return !((pad == 1 && (last & 0x3)) || (pad == 2 && (last & 0xf)));
}

/* Decodes base64 text with libb64 in one pass over it.  libb64 skips every
 * character outside the alphabet (line breaks, '=', anything else), and each
 * character it takes adds 6 bits to its output; so text without line breaks
 * whose decoded length is that of all its characters but the final padding
 * had nothing skipped, and then only the final quantum is left to check.
 * Text that fails this (line breaks, or anything malformed) is checked
 * character by character first, as before, for the precise error. */
int hb_base64_decode(const char *text, size_t len, size_t max, unsigned char **out,
		     size_t *outlen, hb_error *err)
{
	base64_decodestate st;
	size_t chars = 0, dlen, pad = 0;
	unsigned char *buf;
	bool fast;
	int rc;

	if (len > (size_t)INT_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "base64 text of %zu bytes is too large", len);
	fast = b64_fast_shape(text, len, &pad) && len / 4 * 3 <= max + 2;
	if (!fast) {
		rc = b64_check(text, len, &chars, err);
		if (rc < 0)
			return rc;
		dlen = chars / 4 * 3;
		if (dlen > max + 2)
			return hb_error_set(err, -HB_ETOOBIG, "decoded message larger than the limit of %zu bytes", max);
	} else {
		dlen = len / 4 * 3;
	}
	buf = malloc(dlen + 1);
	if (buf == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	base64_init_decodestate(&st);
	dlen = (size_t)base64_decode_block(text, (int)len, (char *)buf, &st);
	if (fast && (dlen != b64_expected(len, pad) || !b64_canonical_end(text, len, pad))) {
		free(buf);
		rc = b64_check(text, len, &chars, err);
		return rc < 0 ? rc : hb_error_set(err, -HB_EINVAL, "invalid base64");
	}
	if (dlen > max) {
		free(buf);
		return hb_error_set(err, -HB_ETOOBIG, "decoded message of %zu bytes is larger than the limit of %zu bytes", dlen, max);
	}
	buf[dlen] = '\0';
	*out = buf;
	*outlen = dlen;
	return 0;
}
