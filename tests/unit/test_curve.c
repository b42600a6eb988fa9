/* test_curve.c -- proves CURVE key loading: a Z85 value or a key file, secret files private, anything else refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curve.h"

static char dir[] = "/tmp/hb-test-curve-XXXXXX";

/* Writes text to dir/name with mode; returns the path (static buffer). */
static const char *key_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void refused(const char *value, bool secret, int code, const char *words)
{
	char key[HB_CURVE_KEY_LEN + 1];
	hb_error err = { 0 };

	assert_int_equal(hb_curve_key_load(value, secret, key, &err), code);
	if (strstr(err.msg, words) == NULL)
		print_error("'%s' does not say '%s'\n", err.msg, words);
	assert_non_null(strstr(err.msg, words));
}

static void test_keys(void **state)
{
	char pub[HB_CURVE_KEY_LEN + 1], sec[HB_CURVE_KEY_LEN + 1], key[HB_CURVE_KEY_LEN + 1], text[128];
	hb_error err = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hb_curve_keypair(pub, sec, &err), 0);
	assert_int_equal(strlen(pub), HB_CURVE_KEY_LEN);
	assert_int_equal(hb_curve_key_load(pub, false, key, &err), 0);
	assert_string_equal(key, pub);
	snprintf(text, sizeof(text), "  %s  \n# comment\n", sec);
	assert_int_equal(hb_curve_key_load(key_file("secret", text, 0600), true, key, &err), 0);
	assert_string_equal(key, sec);
	assert_int_equal(hb_curve_key_load(key_file("public", pub, 0644), false, key, &err), 0);
	assert_string_equal(key, pub);
	refused(key_file("loose", sec, 0640), true, -HB_EPERM, "accessible to group or others");
	refused(key_file("short", "abc\n", 0600), true, -HB_EINVAL, "does not start with");
	refused(key_file("empty", "", 0600), true, -HB_EINVAL, "does not start with");
	refused("short", false, -HB_EINVAL, "neither a 40-character Z85 key");
	refused("relative/path", false, -HB_EINVAL, "absolute path");
	refused("/nonexistent/key", false, -HB_ENOENT, "cannot read");
	/* 40 characters, but not Z85 (a blank is outside its alphabet). */
	refused("                                        ", false, -HB_EINVAL, "neither");
	unlink(key_file("secret", "", 0600));
	unlink(key_file("public", "", 0600));
	unlink(key_file("loose", "", 0600));
	unlink(key_file("short", "", 0600));
	unlink(key_file("empty", "", 0600));
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
