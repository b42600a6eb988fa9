/* test_base64.c -- proves base64 round-trips any bytes, never breaks lines, and refuses malformed text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"

static void roundtrip(const unsigned char *data, size_t len)
{
	size_t elen, dlen;
	char *enc = hb_base64_encode(data, len, &elen);
	unsigned char *dec = NULL;
	hb_error err = { 0 };

	assert_non_null(enc);
	assert_int_equal(strlen(enc), elen);
	assert_int_equal(elen, (len + 2) / 3 * 4);
	assert_null(strchr(enc, '\n'));
	if (len > 0) {
		assert_int_equal(hb_base64_decode(enc, elen, len, &dec, &dlen, &err), 0);
		assert_int_equal(dlen, len);
		assert_memory_equal(dec, data, len);
		free(dec);
	}
	free(enc);
}

static void test_roundtrip_all_lengths(void **state)
{
	unsigned char buf[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	for (size_t len = 0; len <= 300; len++)
		roundtrip(buf, len);
	roundtrip(buf, sizeof(buf));
}

static void test_known_vectors(void **state)
{
	char *e;

	(void)state;
	e = hb_base64_encode("f", 1, NULL);
	assert_string_equal(e, "Zg==");
	free(e);
	e = hb_base64_encode("fooba", 5, NULL);
	assert_string_equal(e, "Zm9vYmE=");
	free(e);
	e = hb_base64_encode("<HOOK_MESSAGE/>", 15, NULL);
	assert_string_equal(e, "PEhPT0tfTUVTU0FHRS8+");
	free(e);
}

static void test_large_has_no_line_breaks(void **state)
{
	size_t n = 1 << 20, elen;
	unsigned char *buf = malloc(n);
	char *enc;

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xa5, n);
	enc = hb_base64_encode(buf, n, &elen);
	assert_non_null(enc);
	assert_null(strchr(enc, '\n'));
	assert_int_equal(elen, (n + 2) / 3 * 4);
	free(enc);
	free(buf);
}

static void expect_refused(const char *text, int code, const char *fragment)
{
	unsigned char *out = NULL;
	size_t n;
	hb_error err = { 0 };

	assert_int_equal(hb_base64_decode(text, strlen(text), 1024, &out, &n, &err), code);
	assert_null(out);
	assert_non_null(strstr(err.msg, fragment));
}

static void test_malformed(void **state)
{
	(void)state;
	expect_refused("", -HB_EINVAL, "empty");
	expect_refused("Zm9v!mE=", -HB_EINVAL, "unexpected character 0x21 at offset 4");
	expect_refused("Zm9vYmE", -HB_EINVAL, "multiple of 4");
	expect_refused("Zg==Zg==", -HB_EINVAL, "after padding");
	expect_refused("Z===", -HB_EINVAL, "too much padding");
	expect_refused("Zh==", -HB_EINVAL, "non-canonical");
	expect_refused("Zm9v YmE=", -HB_EINVAL, "unexpected character 0x20");
}

static int ref_value(int c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* A plain strict decoder to hold hb_base64_decode against: line breaks
 * skipped, whole quanta, '=' only as the last one or two characters, zero
 * unused bits.  Returns the decoded length, or -1 for malformed text. */
static long ref_decode(const char *text, size_t len, unsigned char *out)
{
	char t[256];
	size_t n = 0, pad = 0;
	long o = 0;
	unsigned acc = 0;

	for (size_t i = 0; i < len; i++)
		if (text[i] != '\n' && text[i] != '\r')
			t[n++] = text[i];
	if (n == 0 || n % 4 != 0)
		return -1;
	while (pad < n && t[n - 1 - pad] == '=')
		pad++;
	if (pad > 2)
		return -1;
	for (size_t i = 0; i < n - pad; i++) {
		int v = ref_value((unsigned char)t[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (pad == 2 && (acc & 0xf) == 0)
		out[o++] = (unsigned char)(acc >> 4);
	else if (pad == 1 && (acc & 0x3) == 0) {
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	} else if (pad != 0)
		return -1;
	return o;
}

/* Valid text with one to three characters replaced (by alphabet, '=', line
 * breaks and bytes outside the alphabet, at every place): hb_base64_decode
 * accepts exactly what the strict reference accepts, with the same bytes.
 * libb64 alone would skip what it does not know. */
static void test_mutations_match_strict_reference(void **state)
{
	static const char subst[] = "AQgw+/=\n\r !-.:_~\x01\x7f\x80\xff";
	char *good = hb_base64_encode("twenty bytes of text", 20, NULL);
	size_t len = strlen(good), nsubst = sizeof(subst) - 1;
	unsigned seed = 1;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		char bad[64];
		unsigned char ref[64], *out = NULL;
		size_t n = 0, blen = len - (size_t)(round % 3) * 4;
		hb_error err = { 0 };
		long want;
		int rc;

		memcpy(bad, good, blen);
		for (int k = 0; k <= round % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			bad[(seed >> 8) % blen] = subst[(seed >> 20) % nsubst];
		}
		want = ref_decode(bad, blen, ref);
		rc = hb_base64_decode(bad, blen, 1024, &out, &n, &err);
		if (want < 0) {
			assert_int_equal(rc, -HB_EINVAL);
			assert_null(out);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(n, (size_t)want);
			assert_memory_equal(out, ref, n);
			free(out);
		}
	}
	free(good);
	expect_refused("QQ=A", -HB_EINVAL, "after padding");
	expect_refused("QUJD=QQ=", -HB_EINVAL, "after padding");
}

static void test_line_breaks_skipped(void **state)
{
	unsigned char *out = NULL;
	size_t n;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(hb_base64_decode("Zm9v\r\nYmE=\n", 11, 100, &out, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "fooba", 5);
	free(out);
}

static void test_limit(void **state)
{
	char *enc = hb_base64_encode("0123456789", 10, NULL);
	unsigned char *out = NULL;
	size_t n;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(hb_base64_decode(enc, strlen(enc), 9, &out, &n, &err), -HB_ETOOBIG);
	assert_null(out);
	assert_int_equal(hb_base64_decode(enc, strlen(enc), 10, &out, &n, &err), 0);
	assert_int_equal(n, 10);
	free(out);
	free(enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_lengths),
		cmocka_unit_test(test_known_vectors),
		cmocka_unit_test(test_large_has_no_line_breaks),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mutations_match_strict_reference),
		cmocka_unit_test(test_line_breaks_skipped),
		cmocka_unit_test(test_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
