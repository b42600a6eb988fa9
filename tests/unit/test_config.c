/* test_config.c -- proves config files are checked against known keys, overridden by flags, typed strictly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const hb_config_key keys[] = {
	{ "PUBLISHER_ENDPOINT", "tcp://127.0.0.1:2101", false },
	{ "COMMAND_ENDPOINT", "tcp://127.0.0.1:2102", true },
	{ "CONCURRENCY", "10", false },
	{ "OUTPUT_LIMIT", "64K", false },
	{ "METRICS_LISTEN", "", false },
	{ "REMOTE", "no", false },
	{ "LOG", NULL, false },
	{ NULL, NULL, false },
};

/* Writes text to a new temporary file whose name goes to path (size 256). */
static void write_temp(const char *text, char *path)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(text);
	int fd;

	snprintf(path, 256, "%s/hb_test_config_XXXXXX", dir && dir[0] ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Loads text as a config file and returns the config. */
static hb_config *load_text(const char *text)
{
	char path[256];
	hb_config *c = NULL;
	hb_error err = { 0 };
	int rc;

	write_temp(text, path);
	rc = hb_config_load(path, keys, &c, &err);
	unlink(path);
	if (rc != 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(c);
	return c;
}

/* Asserts that loading text fails with code and a message holding the
 * temporary file's name and what. */
static void load_fails(const char *text, int code, const char *what)
{
	char path[256];
	hb_config *c = NULL;
	hb_error err = { 0 };
	int rc;

	write_temp(text, path);
	rc = hb_config_load(path, keys, &c, &err);
	unlink(path);
	if (rc != code || strstr(err.msg, what) == NULL || strstr(err.msg, path) == NULL)
		print_error("got %d '%s', wanted %d and '%s'\n", rc, err.msg, code, what);
	assert_int_equal(rc, code);
	assert_null(c);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, what));
}

static hb_config *load_defaults(void)
{
	hb_config *c = NULL;
	hb_error err = { 0 };

	assert_int_equal(hb_config_load(NULL, keys, &c, &err), 0);
	assert_non_null(c);
	return c;
}

static void test_defaults(void **state)
{
	hb_config *c = load_defaults();
	hb_error err = { 0 };
	int64_t n = 0;
	bool b = true;

	(void)state;
	assert_string_equal(hb_config_str(c, "PUBLISHER_ENDPOINT"), "tcp://127.0.0.1:2101");
	assert_string_equal(hb_config_str(c, "publisher_endpoint"), "tcp://127.0.0.1:2101");
	assert_int_equal(hb_config_count(c, "COMMAND_ENDPOINT"), 1);
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 0), "tcp://127.0.0.1:2102");
	assert_null(hb_config_nth(c, "COMMAND_ENDPOINT", 1));
	assert_string_equal(hb_config_str(c, "METRICS_LISTEN"), "");
	assert_null(hb_config_str(c, "LOG"));
	assert_int_equal(hb_config_count(c, "LOG"), 0);
	assert_null(hb_config_nth(c, "LOG", 0));
	assert_null(hb_config_str(c, "NO_SUCH_KEY"));
	assert_int_equal(hb_config_int(c, "CONCURRENCY", 1, 1000, &n, &err), 0);
	assert_int_equal(n, 10);
	assert_int_equal(hb_config_int(c, "OUTPUT_LIMIT", 0, INT64_MAX, &n, &err), 0);
	assert_int_equal(n, 65536);
	assert_int_equal(hb_config_bool(c, "REMOTE", &b, &err), 0);
	assert_false(b);
	assert_int_equal(hb_config_int(c, "LOG", 0, 1, &n, &err), -HB_ENOENT);
	assert_non_null(strstr(err.msg, "LOG"));
	assert_int_equal(hb_config_bool(c, "LOG", &b, &err), -HB_ENOENT);
	hb_config_free(c);
	hb_config_free(NULL);
}

static void test_file(void **state)
{
	hb_config *c;

	(void)state;
	c = load_text("# hm-publisher test configuration\n"
		      "concurrency = 4\n"
		      "command_endpoint = ipc:///tmp/a.sock\n"
		      "Command_Endpoint = \"tcp://127.0.0.1:3000\"   # a second one\n"
		      "METRICS_LISTEN =\n"
		      "LOG = \"/var/log/hookbus/hm publisher.log\"\r\n");
	assert_string_equal(hb_config_str(c, "CONCURRENCY"), "4");
	assert_int_equal(hb_config_count(c, "COMMAND_ENDPOINT"), 2);
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 0), "ipc:///tmp/a.sock");
	assert_string_equal(hb_config_nth(c, "command_endpoint", 1), "tcp://127.0.0.1:3000");
	assert_null(hb_config_nth(c, "COMMAND_ENDPOINT", 2));
	assert_string_equal(hb_config_str(c, "COMMAND_ENDPOINT"), "ipc:///tmp/a.sock");
	/* An empty value is a value: the default does not come back. */
	assert_string_equal(hb_config_str(c, "METRICS_LISTEN"), "");
	assert_int_equal(hb_config_count(c, "METRICS_LISTEN"), 1);
	assert_string_equal(hb_config_str(c, "LOG"), "/var/log/hookbus/hm publisher.log");
	/* Keys the file leaves out keep their defaults. */
	assert_string_equal(hb_config_str(c, "PUBLISHER_ENDPOINT"), "tcp://127.0.0.1:2101");
	hb_config_free(c);

	c = load_text("");
	assert_string_equal(hb_config_str(c, "CONCURRENCY"), "10");
	hb_config_free(c);
}

static void test_file_errors(void **state)
{
	hb_config *c = NULL;
	hb_error err = { 0 };

	(void)state;
	load_fails("CONCURRENCY = 1\nFOO = 2\n", -HB_EINVAL, "line 2, column 1: unknown key FOO");
	load_fails("concurrency = 1\n\n  CONCURRENCY = 2\n", -HB_EINVAL,
		   "line 3, column 3: key CONCURRENCY may not repeat (first given at line 1)");
	load_fails("LOG = [ TARGET = syslog ]\n", -HB_EINVAL, "line 1, column 1: key LOG takes a single value");
	load_fails("CONCURRENCY 1\n", -HB_EINVAL, "line 1, column 13: expected '=' after CONCURRENCY");
	load_fails("LOG = \"unterminated\n", -HB_EINVAL, "line 1, column 7: unterminated");

	assert_int_equal(hb_config_load("/nonexistent/hookbus/test.conf", keys, &c, &err), -HB_ENOENT);
	assert_null(c);
	assert_non_null(strstr(err.msg, "/nonexistent/hookbus/test.conf"));
}

static void test_overrides(void **state)
{
	hb_config *c;
	hb_error err = { 0 };

	(void)state;
	c = load_text("COMMAND_ENDPOINT = ipc:///a\nCOMMAND_ENDPOINT = ipc:///b\nCONCURRENCY = 4\n");

	/* The first override replaces every value of the file... */
	assert_int_equal(hb_config_override(c, "--command-endpoint", "tcp://1", &err), 0);
	assert_int_equal(hb_config_count(c, "COMMAND_ENDPOINT"), 1);
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 0), "tcp://1");
	/* ...and the next ones append. */
	assert_int_equal(hb_config_override(c, "--command-endpoint", "tcp://2", &err), 0);
	assert_int_equal(hb_config_override(c, "--COMMAND_ENDPOINT", "tcp://3", &err), 0);
	assert_int_equal(hb_config_count(c, "COMMAND_ENDPOINT"), 3);
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 1), "tcp://2");
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 2), "tcp://3");

	/* A single-valued key: the override wins; a second one is refused. */
	assert_int_equal(hb_config_override(c, "--concurrency", "8", &err), 0);
	assert_string_equal(hb_config_str(c, "CONCURRENCY"), "8");
	assert_int_equal(hb_config_override(c, "--concurrency", "9", &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "--concurrency given more than once"));
	assert_string_equal(hb_config_str(c, "CONCURRENCY"), "8");

	/* A key the file did not give, without the dashes, values with blanks. */
	assert_int_equal(hb_config_override(c, "log", "/tmp/a b.log", &err), 0);
	assert_string_equal(hb_config_str(c, "LOG"), "/tmp/a b.log");
	assert_int_equal(hb_config_override(c, "--metrics-listen", "", &err), 0);
	assert_string_equal(hb_config_str(c, "METRICS_LISTEN"), "");

	assert_int_equal(hb_config_override(c, "--no-such-key", "1", &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "unknown option --no-such-key"));
	assert_int_equal(hb_config_override(c, "--", "1", &err), -HB_EINVAL);
	assert_int_equal(hb_config_override(c, "--hwm.max", "1", &err), -HB_EINVAL);
	assert_int_equal(hb_config_override(c, "--remote", NULL, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "needs a value"));
	hb_config_free(c);

	/* Overrides apply to a config without a file too. */
	c = load_defaults();
	assert_int_equal(hb_config_override(c, "--command-endpoint", "ipc:///x", &err), 0);
	assert_int_equal(hb_config_count(c, "COMMAND_ENDPOINT"), 1);
	assert_string_equal(hb_config_nth(c, "COMMAND_ENDPOINT", 0), "ipc:///x");
	hb_config_free(c);
}

/* Reads value as CONCURRENCY in [min, max]; returns hb_config_int's code. */
static int int_of(const char *value, int64_t min, int64_t max, int64_t *out, hb_error *err)
{
	hb_config *c = load_defaults();
	int rc;

	assert_int_equal(hb_config_override(c, "--concurrency", value, err), 0);
	rc = hb_config_int(c, "CONCURRENCY", min, max, out, err);
	hb_config_free(c);
	return rc;
}

static void test_int(void **state)
{
	static const struct {
		const char *text;
		int64_t value;
	} good[] = {
		{ "0", 0 }, { "42", 42 }, { "-7", -7 }, { "+3", 3 }, { "007", 7 },
		{ "1K", 1024 }, { "2k", 2048 }, { "3M", 3 * 1024 * 1024 },
		{ "1G", 1024 * 1024 * 1024 }, { "4g", INT64_C(4) << 30 }, { "-1K", -1024 },
		{ "9223372036854775807", INT64_MAX }, { "-9223372036854775808", INT64_MIN },
		{ "8589934591G", INT64_C(8589934591) << 30 },
	};
	static const char *const not_numbers[] = {
		"", "abc", "1.5", "1KB", "K", " 1", "1 ", "0x10", "--1", "-", "1e3", "12a",
	};
	static const char *const too_big[] = {
		"9223372036854775808", "-9223372036854775809", "8589934592G",
		"99999999999999999999999",
	};
	hb_error err = { 0 };
	int64_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 12345;
		if (int_of(good[i].text, INT64_MIN, INT64_MAX, &n, &err) != 0)
			print_error("'%s': %s\n", good[i].text, err.msg);
		assert_int_equal(int_of(good[i].text, INT64_MIN, INT64_MAX, &n, &err), 0);
		assert_true(n == good[i].value);
	}
	for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++) {
		n = 12345;
		assert_int_equal(int_of(not_numbers[i], INT64_MIN, INT64_MAX, &n, &err), -HB_EINVAL);
		assert_non_null(strstr(err.msg, "CONCURRENCY"));
		assert_non_null(strstr(err.msg, "not a whole number"));
		assert_int_equal(n, 12345);
	}
	for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
		assert_int_equal(int_of(too_big[i], INT64_MIN, INT64_MAX, &n, &err), -HB_EINVAL);
		assert_non_null(strstr(err.msg, "out of range"));
	}

	/* The caller's range, both ends included. */
	assert_int_equal(int_of("0", 0, 3, &n, &err), 0);
	assert_int_equal(int_of("3", 0, 3, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(int_of("4", 0, 3, &n, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "CONCURRENCY = 4 is out of range (0 to 3)"));
	assert_int_equal(int_of("-1", 0, 3, &n, &err), -HB_EINVAL);
	assert_int_equal(int_of("1K", 0, 1023, &n, &err), -HB_EINVAL);
	assert_int_equal(int_of("1K", 0, 1024, &n, &err), 0);
	assert_int_equal(n, 1024);
}

static void test_bool(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} good[] = {
		{ "yes", true }, { "YES", true }, { "True", true }, { "1", true },
		{ "no", false }, { "No", false }, { "FALSE", false }, { "0", false },
	};
	static const char *const bad[] = { "", "maybe", "2", "y", "on", "yes " };
	hb_error err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		hb_config *c = load_defaults();
		bool b = !good[i].value;

		assert_int_equal(hb_config_override(c, "--remote", good[i].text, &err), 0);
		assert_int_equal(hb_config_bool(c, "REMOTE", &b, &err), 0);
		assert_true(b == good[i].value);
		hb_config_free(c);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hb_config *c = load_defaults();
		bool b = true;

		assert_int_equal(hb_config_override(c, "--remote", bad[i], &err), 0);
		assert_int_equal(hb_config_bool(c, "remote", &b, &err), -HB_EINVAL);
		assert_non_null(strstr(err.msg, "remote"));
		assert_non_null(strstr(err.msg, "not a boolean"));
		assert_true(b);
		hb_config_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
