/* base64.c -- libb64 wrapped: no line breaks out, nothing but well-formed base64 in. */
#include "base64.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <b64/cdecode.h>
#include <b64/cencode.h>

char *hb_base64_encode(const void *data, size_t len, size_t *outlen)
{
	base64_encodestate st;
	size_t cap, n = 0, w = 0;
	char *buf;
	const char *p = data;

	/* libb64 writes a newline every 72 characters and one at the end. */
	cap = (len + 2) / 3 * 4;
	cap += cap / 72 + 4;
	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	base64_init_encodestate(&st);
	while (len > 0) {
		int chunk = len > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		n += (size_t)base64_encode_block(p, chunk, buf + n, &st);
		p += chunk;
		len -= (size_t)chunk;
	}
	n += (size_t)base64_encode_blockend(buf + n, &st);
	for (size_t r = 0; r < n; r++)
		if (buf[r] != '\n' && buf[r] != '\r')
			buf[w++] = buf[r];
	buf[w] = '\0';
	if (outlen != NULL)
		*outlen = w;
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

int hb_base64_decode(const char *text, size_t len, size_t max, unsigned char **out,
		     size_t *outlen, hb_error *err)
{
	base64_decodestate st;
	size_t chars = 0, dlen;
	unsigned char *buf;
	int rc;

	if (len > (size_t)INT_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "base64 text of %zu bytes is too large", len);
	rc = b64_check(text, len, &chars, err);
	if (rc < 0)
		return rc;
	dlen = chars / 4 * 3;
	if (dlen > max + 2)
		return hb_error_set(err, -HB_ETOOBIG, "decoded message larger than the limit of %zu bytes", max);
	buf = malloc(dlen + 1);
	if (buf == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	base64_init_decodestate(&st);
	dlen = (size_t)base64_decode_block(text, (int)len, (char *)buf, &st);
	if (dlen > max) {
		free(buf);
		return hb_error_set(err, -HB_ETOOBIG, "decoded message of %zu bytes is larger than the limit of %zu bytes", dlen, max);
	}
	buf[dlen] = '\0';
	*out = buf;
	*outlen = dlen;
	return 0;
}
