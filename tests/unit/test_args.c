/* test_args.c -- proves ARGUMENTS split into argv like quoted words, with $API/$TEMPLATE filled in after splitting and no shell meaning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

/* Expands arguments with api and tmpl, fails the test on an error, and
 * checks that the result is the n strings of want, NULL-terminated. */
static void expect(const char *arguments, const char *api, const char *tmpl, size_t n, const char *const *want)
{
	char **argv = NULL;
	size_t argc = 99;
	hb_error err = { 0 };
	int rc = hb_args_expand(arguments, api, tmpl, &argv, &argc, &err);

	if (rc != 0)
		print_error("unexpected error for '%s': %s\n", arguments ? arguments : "(null)", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(argv);
	if (argc != n)
		print_error("'%s' gave %zu arguments, wanted %zu\n", arguments, argc, n);
	assert_int_equal(argc, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	hb_args_free(argv);
}

#define EXPECT(args, api, tmpl, ...)                                                   \
	do {                                                                           \
		const char *const want_[] = { __VA_ARGS__ };                           \
		expect(args, api, tmpl, sizeof(want_) / sizeof(want_[0]), want_);      \
	} while (0)

/* Asserts that arguments is refused with code and a message holding what,
 * leaving the outputs untouched. */
static void refuse(const char *arguments, const char *api, const char *tmpl, int code, const char *what)
{
	char **argv = (char **)&argv;
	size_t argc = 42;
	hb_error err = { 0 };
	int rc = hb_args_expand(arguments, api, tmpl, &argv, &argc, &err);

	if (rc != code || strstr(err.msg, what) == NULL)
		print_error("got %d '%s', wanted %d '...%s...'\n", rc, err.msg, code, what);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, what));
	assert_ptr_equal(argv, (char **)&argv);
	assert_int_equal(argc, 42);
}

static void test_none(void **state)
{
	char **argv = NULL;
	hb_error err = { 0 };

	(void)state;
	expect(NULL, "API", "TPL", 0, NULL);
	expect("", "API", "TPL", 0, NULL);
	expect(" \t\n\r ", NULL, NULL, 0, NULL);
	/* argc_out may be NULL; the array is still NULL-terminated. */
	assert_int_equal(hb_args_expand("a b", NULL, NULL, &argv, NULL, &err), 0);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b");
	assert_null(argv[2]);
	hb_args_free(argv);
	hb_args_free(NULL);
}

static void test_blanks(void **state)
{
	(void)state;
	EXPECT("one", NULL, NULL, "one");
	EXPECT("  a b\tc\nd\r\ne  ", NULL, NULL, "a", "b", "c", "d", "e");
	EXPECT("a    b", NULL, NULL, "a", "b");
}

static void test_quotes(void **state)
{
	(void)state;
	EXPECT("\"a b\" c", NULL, NULL, "a b", "c");
	EXPECT("a\"b c\"d", NULL, NULL, "ab cd");
	EXPECT("\"\"", NULL, NULL, "");
	EXPECT("x \"\" y", NULL, NULL, "x", "", "y");
	EXPECT("\"tab\there\nnewline\"", NULL, NULL, "tab\there\nnewline");
	EXPECT("\"say \\\"hi\\\"\" x", NULL, NULL, "say \"hi\"", "x");
	EXPECT("\"\\\"\"", NULL, NULL, "\"");
	/* Outside quotes a backslash is an ordinary byte; inside, only \" is special. */
	EXPECT("a\\b c\\", NULL, NULL, "a\\b", "c\\");
	EXPECT("\"a\\nb\\\\ c\"", NULL, NULL, "a\\nb\\\\ c");
	EXPECT("'single quotes' group nothing", NULL, NULL, "'single", "quotes'", "group", "nothing");
}

static void test_unterminated(void **state)
{
	(void)state;
	refuse("a \"b c", NULL, NULL, -HB_EINVAL, "unterminated quote opened at character 3");
	refuse("\"", NULL, NULL, -HB_EINVAL, "character 1");
	refuse("x \"a\\\"", NULL, NULL, -HB_EINVAL, "character 3");
	refuse("\"ok\" \"bad", NULL, NULL, -HB_EINVAL, "character 6");
	/* As in the template syntax, \" always escapes inside quotes, so a quoted
	 * group cannot end with a backslash. */
	refuse("\"a\\\\\"", NULL, NULL, -HB_EINVAL, "character 1");
}

/* Nothing a shell would act on has any meaning: each stays in its argument. */
static void test_no_shell(void **state)
{
	(void)state;
	EXPECT("$(rm -rf /)", NULL, NULL, "$(rm", "-rf", "/)");
	EXPECT("\"$(id)\" `id` a;b \"x; rm -rf /\" | > <in &", NULL, NULL,
	       "$(id)", "`id`", "a;b", "x; rm -rf /", "|", ">", "<in", "&");
	EXPECT("$HOME ${API} $1 $ $$", "A", "T", "$HOME", "${API}", "$1", "$", "$$");
	EXPECT("*.rb ~ \"a'b\"", NULL, NULL, "*.rb", "~", "a'b");
}

static void test_placeholders(void **state)
{
	(void)state;
	/* The OpenNebula documentation examples. */
	EXPECT("$API", "Q0FMTF9JTkZP", "T", "Q0FMTF9JTkZP");
	EXPECT("$TEMPLATE pending", "A", "PFZNPjwvVk0+", "PFZNPjwvVk0+", "pending");
	EXPECT("\"$TEMPLATE pending\"", "A", "PFZNPg==", "PFZNPg== pending");
	/* Embedded in a token, several times, next to each other. */
	EXPECT("--xml=$TEMPLATE,end", "A", "PFZNPg==", "--xml=PFZNPg==,end");
	EXPECT("$API$TEMPLATE$API", "a", "t", "ata");
	EXPECT("$$API $APIX $TEMPLATES $TEMPLAT", "a", "t", "$a", "aX", "tS", "$TEMPLAT");
	/* NULL values become the empty string; the argument stays. */
	EXPECT("x $API $TEMPLATE y", NULL, NULL, "x", "", "", "y");
	EXPECT("[$TEMPLATE]", "a", NULL, "[]");
}

/* The data is put in after splitting: blanks, quotes and placeholders in
 * it never make extra arguments or get expanded again. */
static void test_data_cannot_split(void **state)
{
	(void)state;
	EXPECT("$TEMPLATE", NULL, "a b \"c d\" ; $(id)", "a b \"c d\" ; $(id)");
	EXPECT("1 $API 2", "x\ny\tz", NULL, "1", "x\ny\tz", "2");
	EXPECT("$API", "$TEMPLATE", "boom", "$TEMPLATE");
	EXPECT("$TEMPLATE", "a", "\"", "\"");
}

/* hem makes the event's values only for arguments that may take them: every
 * arguments whose expansion the values change must be one. */
static void test_take_event(void **state)
{
	static const char *const cases[] = {
		"x y", "\"a b\" c", "$API", "--xml=$TEMPLATE", "\"$\"API", "$\"TEMPLATE\"",
		"$\"\"API", "$HOME", "\"$TEMPLATE pending\"", "a\\$API",
	};

	(void)state;
	assert_false(hb_args_take_event(NULL));
	assert_false(hb_args_take_event(""));
	assert_false(hb_args_take_event("/bin/true \"quoted arg\""));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **with = NULL, **without = NULL;
		size_t nwith = 0, nwithout = 0;
		bool same;
		hb_error err = { 0 };

		assert_int_equal(hb_args_expand(cases[i], "a", "t", &with, &nwith, &err), 0);
		assert_int_equal(hb_args_expand(cases[i], NULL, NULL, &without, &nwithout, &err), 0);
		same = nwith == nwithout;
		for (size_t k = 0; same && k < nwith; k++)
			same = strcmp(with[k], without[k]) == 0;
		if (!same)
			assert_true(hb_args_take_event(cases[i]));
		hb_args_free(with);
		hb_args_free(without);
	}
	assert_true(hb_args_take_event("\"$\"API"));
}

static void test_count_limit(void **state)
{
	char *many = malloc(2 * (HB_ARGS_MAX_COUNT + 1) + 1);
	char **argv = NULL;
	size_t argc = 0;
	hb_error err = { 0 };

	(void)state;
	assert_non_null(many);
	for (size_t i = 0; i < HB_ARGS_MAX_COUNT; i++)
		memcpy(many + 2 * i, "x ", 2);
	many[2 * HB_ARGS_MAX_COUNT] = '\0';
	assert_int_equal(hb_args_expand(many, NULL, NULL, &argv, &argc, &err), 0);
	assert_int_equal(argc, HB_ARGS_MAX_COUNT);
	assert_null(argv[HB_ARGS_MAX_COUNT]);
	hb_args_free(argv);
	memcpy(many + 2 * HB_ARGS_MAX_COUNT, "y", 2);
	refuse(many, NULL, NULL, -HB_ETOOBIG, "more than 4096 arguments");
	free(many);
}

static void test_size_limit(void **state)
{
	/* One argument of HB_ARGS_MAX_BYTES - 1 bytes plus its NUL just fits. */
	size_t big = HB_ARGS_MAX_BYTES - 1;
	char *data = malloc(big + 2);
	char **argv = NULL;
	size_t argc = 0;
	hb_error err = { 0 };

	(void)state;
	assert_non_null(data);
	memset(data, 'A', big + 1);
	data[big] = '\0';
	assert_int_equal(hb_args_expand("$TEMPLATE", NULL, data, &argv, &argc, &err), 0);
	assert_int_equal(argc, 1);
	assert_int_equal(strlen(argv[0]), big);
	hb_args_free(argv);
	refuse("$TEMPLATE x", NULL, data, -HB_ETOOBIG, "exceed");
	data[big] = 'A';
	data[big + 1] = '\0';
	refuse("$TEMPLATE", NULL, data, -HB_ETOOBIG, "exceed 16777216 bytes");
	free(data);

	/* A small value repeated is measured before anything is allocated. */
	data = malloc(1024 * 1024 + 1);
	assert_non_null(data);
	memset(data, 'B', 1024 * 1024);
	data[1024 * 1024] = '\0';
	refuse("$API$API$API$API$API$API$API$API$API$API$API$API$API$API$API$API", data, NULL,
	       -HB_ETOOBIG, "exceed");
	refuse("$API $API $API $API $API $API $API $API $API $API $API $API $API $API $API $API", data,
	       NULL, -HB_ETOOBIG, "exceed");
	free(data);
}

static void test_join(void **state)
{
	char *const two[] = { "a", "b c", NULL };
	char *const empty[] = { "", "x", "", NULL };
	char **argv = NULL;
	size_t argc = 0;
	hb_error err = { 0 };
	char *s;

	(void)state;
	s = hb_args_join(NULL, 0);
	assert_string_equal(s, "");
	free(s);
	s = hb_args_join(two, 1);
	assert_string_equal(s, "a");
	free(s);
	s = hb_args_join(two, 2);
	assert_string_equal(s, "a b c");
	free(s);
	s = hb_args_join(empty, 3);
	assert_string_equal(s, " x ");
	free(s);

	/* The expanded argument string of the OpenNebula state example. */
	assert_int_equal(hb_args_expand("\"$TEMPLATE\"  pending", NULL, "PFZNPg==", &argv, &argc, &err), 0);
	s = hb_args_join(argv, argc);
	assert_string_equal(s, "PFZNPg== pending");
	free(s);
	hb_args_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_blanks),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_no_shell),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_data_cannot_split),
		cmocka_unit_test(test_take_event),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
