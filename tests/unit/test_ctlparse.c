/* test_ctlparse.c -- proves hem's control request parser: each verb's arguments, and a clear error for every malformed request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ctlparse.h"

/* Parses the n NUL-terminated frames; returns the parser's code. */
static int parse(hem_ctl_request *q, hb_error *err, size_t n, const char *const *frames)
{
	size_t lens[16];

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(frames[i]);
	return hem_ctl_parse(frames, lens, n, q, err);
}

#define PARSE(q, err, ...)                                                             \
	({                                                                             \
		const char *const f_[] = { __VA_ARGS__ };                              \
		parse(q, err, sizeof(f_) / sizeof(f_[0]), f_);                         \
	})

/* Checks that the frames are refused with a message containing words. */
#define REFUSED(words, ...)                                                            \
	do {                                                                           \
		hem_ctl_request q_;                                                    \
		hb_error e_ = { 0 };                                                   \
		assert_int_equal(PARSE(&q_, &e_, __VA_ARGS__), -HB_EINVAL);            \
		if (strstr(e_.msg, words) == NULL)                                     \
			print_error("'%s' does not say '%s'\n", e_.msg, words);        \
		assert_non_null(strstr(e_.msg, words));                                \
	} while (0)

static void test_verbs(void **state)
{
	hem_ctl_request q;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(PARSE(&q, &err, "ALLOCATE", "NAME = x"), 0);
	assert_int_equal(q.verb, HEM_CTL_ALLOCATE);
	assert_int_equal(q.text_len, 8);
	assert_memory_equal(q.text, "NAME = x", 8);
	assert_int_equal(PARSE(&q, &err, "INFO", "3"), 0);
	assert_int_equal(q.verb, HEM_CTL_INFO);
	assert_int_equal(q.id, 3);
	assert_int_equal(q.exec_id, -1);
	assert_int_equal(PARSE(&q, &err, "INFO", "3", "7"), 0);
	assert_int_equal(q.exec_id, 7);
	assert_int_equal(PARSE(&q, &err, "POOL"), 0);
	assert_int_equal(q.verb, HEM_CTL_POOL);
	assert_int_equal(PARSE(&q, &err, "UPDATE", "1", "TIMEOUT = 5", "1"), 0);
	assert_true(q.append);
	assert_int_equal(PARSE(&q, &err, "UPDATE", "1", "TIMEOUT = 5", "0"), 0);
	assert_false(q.append);
	assert_int_equal(PARSE(&q, &err, "RENAME", "2", "new-name"), 0);
	assert_string_equal(q.name, "new-name");
	assert_int_equal(PARSE(&q, &err, "LOCK", "1"), 0);
	assert_int_equal(q.level, 1);
	assert_int_equal(PARSE(&q, &err, "LOCK", "1", "4"), 0);
	assert_int_equal(q.level, 4);
	assert_int_equal(PARSE(&q, &err, "UNLOCK", "1"), 0);
	assert_int_equal(q.verb, HEM_CTL_UNLOCK);
	assert_int_equal(PARSE(&q, &err, "RETRY", "1", "2"), 0);
	assert_int_equal(q.exec_id, 2);
	assert_int_equal(PARSE(&q, &err, "LOG", "-1", "100", "5", "error"), 0);
	assert_int_equal(q.filter.since, -1);
	assert_int_equal(q.filter.until, 100);
	assert_int_equal(q.filter.hook_id, 5);
	assert_true(q.filter.error_only);
	assert_false(q.filter.success_only);
	assert_int_equal(PARSE(&q, &err, "VERDICT", "42", "5000"), 0);
	assert_int_equal(q.verb, HEM_CTL_VERDICT);
	assert_int_equal(q.seq, 42);
	assert_int_equal(q.timeout_ms, 5000);
}

static void test_malformed(void **state)
{
	hem_ctl_request q;
	hb_error err = { 0 };
	char long_name[HEM_CTL_NAME_MAX + 2];

	(void)state;
	assert_int_equal(hem_ctl_parse(NULL, NULL, 0, &q, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "empty request"));
	REFUSED("unknown request", "BOGUS");
	REFUSED("unknown request", "pool");
	REFUSED("ALLOCATE takes 1", "ALLOCATE");
	REFUSED("LOCK takes a hook id", "LOCK");
	REFUSED("UNLOCK takes a hook id", "UNLOCK");
	REFUSED("hook id must be a non-negative integer", "INFO", "-1");
	REFUSED("hook id must be a non-negative integer", "INFO", "1x");
	REFUSED("hook id must be a non-negative integer", "INFO", "");
	REFUSED("hook id must be a non-negative integer", "DELETE", "99999999999999999999999");
	REFUSED("execution id must be", "INFO", "1", "x");
	REFUSED("RETRY takes 2", "RETRY", "1");
	REFUSED("lock level must be", "LOCK", "1", "5");
	REFUSED("lock level must be", "LOCK", "1", "0");
	REFUSED("is not a number", "LOCK", "1", "two");
	REFUSED("LOG takes", "LOG", "1", "2", "3", "all", "extra");
	REFUSED("is not a number", "LOG", "a", "2", "3", "all");
	REFUSED("LOG filter must be", "LOG", "1", "2", "3", "some");
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	REFUSED("longer than", "RENAME", "1", long_name);
	REFUSED("VERDICT takes 2", "VERDICT", "1");
	REFUSED("sequence number must be", "VERDICT", "x", "10");
	REFUSED("timeout in milliseconds must be", "VERDICT", "1", "-5");
	REFUSED("at most 3600000 ms", "VERDICT", "1", "3600001");
	{
		const char *frames[] = { "INFO", "1\0002" };
		size_t lens[] = { 4, 3 };
		assert_int_equal(hem_ctl_parse(frames, lens, 2, &q, &err), -HB_EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
