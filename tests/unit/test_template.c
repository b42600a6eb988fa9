/* test_template.c -- proves the parser reads the template syntax, places every error, and round-trips. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

/* Parses len bytes of text, failing the test with the parser's message when
 * it refuses them. */
static hb_template *parse_len(const char *text, size_t len)
{
	hb_template *t = NULL;
	hb_error err = { 0 };
	int rc = hb_template_parse(text, len, &t, &err);

	if (rc != 0)
		print_error("unexpected parse error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(t);
	return t;
}

static hb_template *parse(const char *text)
{
	return parse_len(text, strlen(text));
}

/* Asserts that len bytes of text are refused with code, that the message
 * starts with where ("line L, column C: ") and that it contains what. */
static void refuse_len(const char *text, size_t len, int code, const char *where, const char *what)
{
	hb_template *t = NULL;
	hb_error err = { 0 };
	int rc = hb_template_parse(text, len, &t, &err);

	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_null(t);
	if (strncmp(err.msg, where, strlen(where)) != 0 || strstr(err.msg, what) == NULL)
		print_error("message '%s' does not start with '%s' and hold '%s'\n", err.msg, where, what);
	assert_true(strncmp(err.msg, where, strlen(where)) == 0);
	assert_non_null(strstr(err.msg, what));
}

static void refuse(const char *text, const char *where, const char *what)
{
	refuse_len(text, strlen(text), -HB_EINVAL, where, what);
}

/* Whether a and b hold the same attributes, in the same order. */
static bool templates_equal(const hb_template *a, const hb_template *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const hb_tattr *x = &a->attrs[i], *y = &b->attrs[i];

		if (strcmp(x->name, y->name) != 0 || (x->value == NULL) != (y->value == NULL))
			return false;
		if (x->value != NULL) {
			if (strcmp(x->value, y->value) != 0)
				return false;
			continue;
		}
		if (x->nvec != y->nvec)
			return false;
		for (size_t j = 0; j < x->nvec; j++)
			if (strcmp(x->vec[j].name, y->vec[j].name) != 0 ||
			    strcmp(x->vec[j].value, y->vec[j].value) != 0)
				return false;
	}
	return true;
}

/* Asserts that t written by to_str reads back equal. */
static void assert_roundtrip(const hb_template *t)
{
	char *text = hb_template_to_str(t);
	hb_template *back;

	assert_non_null(text);
	back = parse(text);
	if (!templates_equal(t, back))
		print_error("round trip changed the template; text was:\n%s\n", text);
	assert_true(templates_equal(t, back));
	hb_template_free(back);
	free(text);
}

static void test_single(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("NAME = value\n");
	assert_int_equal(t->n, 1);
	assert_string_equal(t->attrs[0].name, "NAME");
	assert_string_equal(t->attrs[0].value, "value");
	assert_null(t->attrs[0].vec);
	assert_int_equal(t->attrs[0].line, 1);
	assert_int_equal(t->attrs[0].col, 1);
	hb_template_free(t);

	/* No final newline, blanks and tabs around, a lower-case name. */
	t = parse("\n  command\t=\t/usr/bin/true  ");
	assert_int_equal(t->n, 1);
	assert_string_equal(t->attrs[0].name, "COMMAND");
	assert_string_equal(t->attrs[0].value, "/usr/bin/true");
	assert_int_equal(t->attrs[0].line, 2);
	assert_int_equal(t->attrs[0].col, 3);
	hb_template_free(t);

	/* Outside vectors '=' and ',' may stand in a bare value. */
	t = parse("A = x=y,z\nB=1\n");
	assert_string_equal(hb_template_get(t, "A"), "x=y,z");
	assert_string_equal(hb_template_get(t, "B"), "1");
	hb_template_free(t);
}

static void test_quoted_multiline(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("ARGUMENTS = \"a  b\n  c # not a comment, = [x]\"\nNEXT = 1\n");
	assert_int_equal(t->n, 2);
	assert_string_equal(hb_template_get(t, "ARGUMENTS"), "a  b\n  c # not a comment, = [x]");
	assert_string_equal(hb_template_get(t, "NEXT"), "1");
	assert_int_equal(t->attrs[1].line, 3);
	assert_int_equal(t->attrs[1].col, 1);
	hb_template_free(t);
}

static void test_empty(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("");
	assert_int_equal(t->n, 0);
	hb_template_free(t);
	t = parse_len(NULL, 0);
	assert_int_equal(t->n, 0);
	hb_template_free(t);
	t = parse("\n\n   \t\n# only a comment\n  # and another\n");
	assert_int_equal(t->n, 0);
	hb_template_free(t);

	t = parse("A =\nB = # comment\nC = \"\"\nD =");
	assert_int_equal(t->n, 4);
	for (size_t i = 0; i < t->n; i++)
		assert_string_equal(t->attrs[i].value, "");
	hb_template_free(t);
}

static void test_vectors(void **state)
{
	hb_template *t;
	const hb_tattr *a;

	(void)state;
	t = parse("HOOK = [ K = V, K2 = \"v, w ]\" , k3 = x ]\n");
	assert_int_equal(t->n, 1);
	a = hb_template_find(t, "hook");
	assert_non_null(a);
	assert_null(a->value);
	assert_null(hb_template_get(t, "HOOK"));
	assert_int_equal(a->nvec, 3);
	assert_string_equal(a->vec[0].name, "K");
	assert_string_equal(a->vec[0].value, "V");
	assert_string_equal(a->vec[1].value, "v, w ]");
	assert_string_equal(a->vec[2].name, "K3");
	assert_string_equal(hb_tattr_vec_get(a, "K3"), "x");
	assert_string_equal(hb_tattr_vec_get(a, "k2"), "v, w ]");
	assert_null(hb_tattr_vec_get(a, "K4"));
	hb_template_free(t);

	/* Several lines, comments between items, empty values, a trailing comma. */
	t = parse("DISK = [\n"
		  "  IMAGE = \"ubuntu\",   # the image\n"
		  "  # a comment line\n"
		  "  SIZE = 10 ,\n"
		  "  EMPTY =,\n"
		  "  LAST =\n"
		  "]\n"
		  "AFTER = yes\n"
		  "NONE = [ ]\n");
	assert_int_equal(t->n, 3);
	a = hb_template_find(t, "DISK");
	assert_int_equal(a->nvec, 4);
	assert_string_equal(hb_tattr_vec_get(a, "IMAGE"), "ubuntu");
	assert_string_equal(hb_tattr_vec_get(a, "SIZE"), "10");
	assert_string_equal(hb_tattr_vec_get(a, "EMPTY"), "");
	assert_string_equal(hb_tattr_vec_get(a, "LAST"), "");
	assert_string_equal(hb_template_get(t, "AFTER"), "yes");
	assert_int_equal(t->attrs[1].line, 8);
	assert_int_equal(hb_template_find(t, "NONE")->nvec, 0);
	hb_template_free(t);
}

static void test_comments(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("# header\nA = 1 # trailing\n  # indented\nB = \"x#y\" # c\n"
		  "C = [ K = v ] # after a vector\n#end");
	assert_int_equal(t->n, 3);
	assert_string_equal(hb_template_get(t, "A"), "1");
	assert_string_equal(hb_template_get(t, "B"), "x#y");
	assert_string_equal(hb_tattr_vec_get(hb_template_find(t, "C"), "K"), "v");
	hb_template_free(t);
}

static void test_repeated_and_case(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("A = 1\na = 2\nB = 3\nA = [ K = 4 ]\n");
	assert_int_equal(t->n, 4);
	assert_int_equal(hb_template_count(t, "a"), 3);
	assert_int_equal(hb_template_count(t, "B"), 1);
	assert_int_equal(hb_template_count(t, "C"), 0);
	assert_string_equal(hb_template_get(t, "a"), "1");
	assert_string_equal(t->attrs[1].name, "A");
	assert_string_equal(t->attrs[1].value, "2");
	assert_ptr_equal(hb_template_find(t, "A"), &t->attrs[0]);
	assert_null(hb_template_find(t, "AB"));
	assert_int_equal(hb_template_remove(t, "A"), 3);
	assert_int_equal(t->n, 1);
	assert_string_equal(t->attrs[0].name, "B");
	assert_int_equal(hb_template_remove(t, "A"), 0);
	hb_template_free(t);
}

static void test_escapes(void **state)
{
	hb_template *t;

	(void)state;
	/* The text reads:  A = "say \"hi\""   B = "C:\dir\n"   C = "x\\"y"   D = back\slash\ */
	t = parse("A = \"say \\\"hi\\\"\"\n"
		  "B = \"C:\\dir\\n\"\n"
		  "C = \"x\\\\\"y\"\n"
		  "D = back\\slash\\\n");
	assert_string_equal(hb_template_get(t, "A"), "say \"hi\"");
	assert_string_equal(hb_template_get(t, "B"), "C:\\dir\\n");
	assert_string_equal(hb_template_get(t, "C"), "x\\\"y");
	assert_string_equal(hb_template_get(t, "D"), "back\\slash\\");
	assert_roundtrip(t);
	hb_template_free(t);
}

static void test_crlf(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("A = 1\r\nB = \"two\r\nlines\"\r\n# c\r\nC = [ K = v,\r\n  L = \"w\" ]\r\nD =\r\n");
	assert_int_equal(t->n, 4);
	assert_string_equal(hb_template_get(t, "A"), "1");
	assert_string_equal(hb_template_get(t, "B"), "two\nlines");
	assert_string_equal(hb_tattr_vec_get(hb_template_find(t, "C"), "K"), "v");
	assert_string_equal(hb_tattr_vec_get(hb_template_find(t, "C"), "L"), "w");
	assert_string_equal(hb_template_get(t, "D"), "");
	assert_int_equal(t->attrs[2].line, 5);
	hb_template_free(t);
}

static void test_error_unterminated_quote(void **state)
{
	(void)state;
	refuse("A = 1\nB = \"abc\n\ndef", "line 2, column 5: ", "unterminated quoted value");
	refuse("V = [ K = \"x ]\n", "line 1, column 11: ", "unterminated");
	/* An escaped quote does not close the value. */
	refuse("A = \"abc\\\"", "line 1, column 5: ", "unterminated");
}

static void test_error_missing_equals(void **state)
{
	(void)state;
	refuse("A = 1\nNAME value\n", "line 2, column 6: ", "expected '=' after NAME, found 'v'");
	refuse("A\n", "line 1, column 2: ", "missing '=' after A");
	refuse("A", "line 1, column 2: ", "missing '=' after A");
	refuse("LONG_NAME  # comment\n", "line 1, column 12: ", "missing '='");
	refuse("V = [ K V ]", "line 1, column 9: ", "expected '=' after K");
	refuse("V = [ K ]", "line 1, column 9: ", "expected '=' after K, found ']'");
}

static void test_error_bad_name(void **state)
{
	(void)state;
	refuse("A-B = 1\n", "line 1, column 2: ", "invalid character '-' in attribute name");
	refuse("X = 1\n = 1\n", "line 2, column 2: ", "missing attribute name before '='");
	refuse("  $X = 1\n", "line 1, column 3: ", "expected an attribute name, found '$'");
	refuse("\"A\" = 1\n", "line 1, column 1: ", "expected an attribute name");
	refuse("V = [ K.1 = 2 ]", "line 1, column 8: ", "invalid character '.'");
	refuse("\xc3\xa9 = 1", "line 1, column 1: ", "byte 0xc3");
}

static void test_error_missing_bracket(void **state)
{
	(void)state;
	/* End of input inside a vector: the message points at its '['. */
	refuse("A = 1\nV = [ A = 1,\n B = 2\n", "line 2, column 5: ", "missing ']' to close the vector V");
	refuse("V = [", "line 1, column 5: ", "missing ']'");
	/* A next attribute where ',' or ']' should be. */
	refuse("V = [ A = 1\nB = 2\n", "line 2, column 1: ",
	       "expected ',' or ']' after A in the vector V (opened at line 1, column 5), found 'B'");
	refuse("V = [ A = x\"y\" ]", "line 1, column 12: ", "found '\"'");
}

static void test_error_stray_comma(void **state)
{
	(void)state;
	refuse("V = [ , A = 1 ]", "line 1, column 7: ", "stray ',' in vector V");
	refuse("V = [ A = 1,, B = 2 ]", "line 1, column 13: ", "stray ','");
	refuse("V = [ A = 1,\n  ,\n]", "line 2, column 3: ", "stray ','");
	refuse(", A = 1\n", "line 1, column 1: ", "stray ','");
	refuse("A = 1\n,\n", "line 2, column 1: ", "stray ','");
}

static void test_error_garbage_after_value(void **state)
{
	(void)state;
	refuse("A = 1 B = 2\n", "line 1, column 7: ", "unexpected 'B' after the value of A");
	refuse("A = \"x\" y\n", "line 1, column 9: ", "unexpected 'y' after the value of A");
	refuse("A = \"x\"\"y\"\n", "line 1, column 8: ", "unexpected '\"'");
	refuse("A = [ K = 1 ] z\n", "line 1, column 15: ", "unexpected 'z' after the value of A");
	refuse("A = ab\"c\"\n", "line 1, column 7: ", "unexpected '\"'");
	refuse("A = ]\n", "line 1, column 5: ", "unexpected ']'");
	refuse("A = x]\n", "line 1, column 6: ", "unexpected ']'");
	refuse("A = 1\nB = 2 3\n", "line 2, column 7: ", "after the value of B");
}

static void test_error_nested_vector(void **state)
{
	(void)state;
	refuse("V = [ A = [ B = 1 ] ]\n", "line 1, column 11: ", "nested vectors are not supported");
	refuse("V = [\n  A = 1,\n  B = [\n", "line 3, column 7: ", "nested vectors are not supported");
	refuse("V = [ [ B = 1 ] ]\n", "line 1, column 7: ", "nested vectors are not supported");
}

static void test_error_nul(void **state)
{
	static const char text[] = "A = 1\nB = x\0y\n";

	(void)state;
	refuse_len(text, sizeof(text) - 1, -HB_EINVAL, "line 2, column 6: ", "NUL byte");
	refuse_len("\0", 1, -HB_EINVAL, "line 1, column 1: ", "NUL byte");
}

/* Fills a new buffer of len bytes with lines "A_n = value_n\n", padding the
 * end with a comment; *count receives the number of attributes. */
static char *many_attributes(size_t len, size_t *count)
{
	char *text = malloc(len + 1);
	size_t pos = 0, n = 0;

	assert_non_null(text);
	for (;;) {
		char line[64];
		int w = snprintf(line, sizeof(line), "A_%zu = value_%zu\n", n, n);

		if (pos + (size_t)w + 2 > len)
			break;
		memcpy(text + pos, line, (size_t)w);
		pos += (size_t)w;
		n++;
	}
	text[pos++] = '#';
	memset(text + pos, 'x', len - pos);
	text[len] = '\0';
	*count = n;
	return text;
}

static void test_huge(void **state)
{
	size_t count;
	char *text;
	hb_template *t;
	char last[64];

	(void)state;
	/* Exactly the limit: accepted, every attribute read. */
	text = many_attributes(HB_TEMPLATE_MAX_SIZE, &count);
	t = parse_len(text, HB_TEMPLATE_MAX_SIZE);
	assert_true(count > 40000);
	assert_int_equal(t->n, count);
	snprintf(last, sizeof(last), "value_%zu", count - 1);
	assert_string_equal(t->attrs[count - 1].value, last);
	assert_int_equal(t->attrs[count - 1].line, count);
	assert_string_equal(hb_template_get(t, "A_12345"), "value_12345");
	assert_roundtrip(t);
	hb_template_free(t);
	free(text);

	/* One byte more: refused before parsing, with the place of the limit. */
	text = many_attributes(HB_TEMPLATE_MAX_SIZE + 1, &count);
	refuse_len(text, HB_TEMPLATE_MAX_SIZE + 1, -HB_ETOOBIG, "line ", "larger than the limit");
	free(text);
}

static void test_roundtrip(void **state)
{
	hb_template *t;

	(void)state;
	t = parse("NAME = hook0\n"
		  "TYPE = state\n"
		  "ARGUMENTS = \"$TEMPLATE --flag \\\"quoted\\\" x=y\"\n"
		  "MULTI = \"line one\n\tline two\"\n"
		  "EMPTY =\n"
		  "SPECIAL = \"#,[]=\"\n"
		  "PATH = C:\\dir\\\n"
		  "ESC = \"a\\\\\\\"b\"\n"
		  "V = [ K = v, Q = \"a, b ]\", E = , P = \"x\\\\y\" ]\n"
		  "EV = [ ]\n"
		  "NAME = again\n");
	assert_int_equal(t->n, 11);
	assert_roundtrip(t);
	hb_template_free(t);

	/* The documented shape of the text. */
	t = parse("a = 1\nv = [ k = \"x y\", l = 2 ]\n");
	{
		char *text = hb_template_to_str(t);

		assert_non_null(text);
		assert_string_equal(text, "A=1\nV=[\n  K=\"x y\",\n  L=2 ]\n");
		free(text);
	}
	hb_template_free(t);

	t = hb_template_new();
	assert_non_null(t);
	{
		char *text = hb_template_to_str(t);

		assert_non_null(text);
		assert_string_equal(text, "");
		free(text);
	}
	hb_template_free(t);
}

static void test_edit(void **state)
{
	hb_template *t, *src;
	hb_error err = { 0 };

	(void)state;
	t = hb_template_new();
	assert_non_null(t);
	assert_int_equal(hb_template_add(t, "name", "x", &err), 0);
	assert_int_equal(hb_template_add(t, "Other", "a b", &err), 0);
	assert_int_equal(hb_template_add(t, "NAME", "y", &err), 0);
	assert_string_equal(t->attrs[0].name, "NAME");
	assert_string_equal(t->attrs[1].name, "OTHER");
	assert_int_equal(hb_template_count(t, "name"), 2);

	/* set replaces every NAME with one, in the place of the first. */
	assert_int_equal(hb_template_set(t, "Name", "z", &err), 0);
	assert_int_equal(t->n, 2);
	assert_string_equal(t->attrs[0].name, "NAME");
	assert_string_equal(t->attrs[0].value, "z");
	assert_int_equal(hb_template_set(t, "NEW", "", &err), 0);
	assert_int_equal(t->n, 3);
	assert_string_equal(t->attrs[2].value, "");

	/* What cannot be stored or written back is refused. */
	assert_int_equal(hb_template_add(t, "BAD-NAME", "x", &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "invalid attribute name"));
	assert_int_equal(hb_template_add(t, "", "x", &err), -HB_EINVAL);
	assert_int_equal(hb_template_set(t, "P", "a b\\", &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "ends with"));
	assert_int_equal(hb_template_add(t, "P", "ab\\", &err), 0);
	assert_int_equal(t->n, 4);

	/* merge appends copies, vectors included; merging a template into
	 * itself doubles it. */
	src = parse("V = [ K = 1, L = \"2 3\" ]\nNAME = w\n");
	assert_int_equal(hb_template_merge(t, src, &err), 0);
	hb_template_free(src);
	assert_int_equal(t->n, 6);
	assert_string_equal(hb_tattr_vec_get(hb_template_find(t, "V"), "L"), "2 3");
	assert_int_equal(hb_template_merge(t, t, &err), 0);
	assert_int_equal(t->n, 12);
	assert_int_equal(hb_template_count(t, "V"), 2);
	assert_roundtrip(t);
	hb_template_free(t);
	hb_template_free(NULL);
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(hb_template_name_valid("A"));
	assert_true(hb_template_name_valid("log_retention_2"));
	assert_true(hb_template_name_valid("_"));
	assert_false(hb_template_name_valid(""));
	assert_false(hb_template_name_valid(NULL));
	assert_false(hb_template_name_valid("A B"));
	assert_false(hb_template_name_valid("A-B"));
	assert_false(hb_template_name_valid("\xc3\xa9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_quoted_multiline),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_repeated_and_case),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_error_unterminated_quote),
		cmocka_unit_test(test_error_missing_equals),
		cmocka_unit_test(test_error_bad_name),
		cmocka_unit_test(test_error_missing_bracket),
		cmocka_unit_test(test_error_stray_comma),
		cmocka_unit_test(test_error_garbage_after_value),
		cmocka_unit_test(test_error_nested_vector),
		cmocka_unit_test(test_error_nul),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
