/* test_xmlcodec.c -- proves a reused parser and serializer give what fresh ones give: same documents, same refusals, same bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "fsutil.h"
#include "message.h"
#include "schema.h"
#include "xml.h"
#include "xmlcodec.h"

static hb_schema *g_schema;
static hb_xml_codec *g_codec;

static int setup(void **state)
{
	hb_error err = { 0 };

	(void)state;
	if (hb_schema_load("hook_message.xsd", &g_schema, &err) < 0 || hb_xml_codec_new(&g_codec, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hb_xml_codec_free(g_codec);
	hb_schema_free(g_schema);
	xmlCleanupParser();
	return 0;
}

/* Parses xml with the shared codec and with a fresh parser: both accept it
 * or both refuse it with the same message; accepted, both serialize it to the
 * same bytes, and so do the codec's and the plain serializer; as a message,
 * both decide alike and encode alike, SEQ included. */
static void expect_same(const char *xml, size_t len)
{
	xmlDocPtr a = NULL, b = NULL;
	hb_error ea = { 0 }, eb = { 0 };
	int ra = hb_xml_codec_parse(g_codec, xml, len, &a, &ea);
	int rb = hb_xml_parse(xml, len, &b, &eb);
	hb_message *ma = NULL, *mb = NULL;

	assert_int_equal(ra, rb);
	if (ra < 0) {
		assert_string_equal(ea.msg, eb.msg);
	} else {
		size_t la, lb;
		char *plain = hb_xml_dump(xmlDocGetRootElement(b), &lb);
		const char *reused = hb_xml_codec_dump(g_codec, xmlDocGetRootElement(a), &la);

		assert_non_null(plain);
		assert_non_null(reused);
		assert_int_equal(la, lb);
		assert_memory_equal(reused, plain, la);
		free(plain);
		xmlFreeDoc(a);
		xmlFreeDoc(b);
	}
	ra = hb_message_parse(g_codec, xml, len, g_schema, &ma, &ea);
	rb = hb_message_from_xml(xml, len, g_schema, &mb, &eb);
	assert_int_equal(ra, rb);
	if (ra < 0) {
		assert_string_equal(ea.msg, eb.msg);
	} else {
		size_t la, lb;
		char *ca, *cb;
		assert_int_equal(hb_message_set_seq(ma, 4242, &ea), 0);
		assert_int_equal(hb_message_set_seq(mb, 4242, &eb), 0);
		ca = hb_message_encode(g_codec, ma, &la);
		cb = hb_message_to_base64(mb, &lb);
		assert_non_null(ca);
		assert_non_null(cb);
		assert_int_equal(la, lb);
		assert_memory_equal(ca, cb, la);
		free(ca);
		free(cb);
	}
	hb_message_free(ma);
	hb_message_free(mb);
}

static void test_inline_documents(void **state)
{
	static const char *const docs[] = {
		"<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.vm.allocate</CALL><CALL_INFO><RESULT>1</RESULT>"
		"<PARAMETERS><PARAMETER><POSITION>1</POSITION><TYPE>IN</TYPE><VALUE>caf\xc3\xa9 &amp; &lt;tea&gt; \"q\" 'a' \r\n"
		"</VALUE></PARAMETER></PARAMETERS><EXTRA><X a=\"1&quot;&#10;\" b='x'/><![CDATA[<raw> & ]]><!-- c --><?pi d?>"
		"<n:Y xmlns:n=\"urn:x\"></n:Y></EXTRA></CALL_INFO></HOOK_MESSAGE>",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HOOK_MESSAGE>\n  <HOOK_TYPE>STATE</HOOK_TYPE>\n"
		"  <HOOK_OBJECT>VM</HOOK_OBJECT><STATE>ACTIVE</STATE><LCM_STATE>RUNNING</LCM_STATE>"
		"<RESOURCE_ID>7</RESOURCE_ID><REMOTE_HOST></REMOTE_HOST><VM><ID>7</ID><NAME>\xe2\x82\xac</NAME></VM>\n</HOOK_MESSAGE>",
		"<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><SEQ>9</SEQ><CALL>one.x</CALL><CALL_INFO><RESULT>0</RESULT>"
		"</CALL_INFO></HOOK_MESSAGE>",
		"<!DOCTYPE HOOK_MESSAGE [<!ATTLIST HOOK_TYPE a CDATA \"d\">]><HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE>"
		"</HOOK_MESSAGE>",
		"<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE>",
		"<HOOK_MESSAGE><HOOK_TYPE a=\"1\" a=\"2\">API</HOOK_TYPE></HOOK_MESSAGE>",
		"not xml at all",
		"<A>&undefined;</A>",
		"<HOOK_MESSAGE><HOOK_TYPE>NOPE</HOOK_TYPE></HOOK_MESSAGE>",
	};

	(void)state;
	/* Twice over, so that each document follows every other one through
	 * the same parser context, the refused ones included. */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
			expect_same(docs[i], strlen(docs[i]));
}

static void same_for_dir(const char *kind)
{
	const char *src = getenv("HB_SOURCE_DIR");
	char dir[4096];
	struct dirent *de;
	size_t seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/data/messages/%s", src ? src : ".", kind);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[8192], *xml = NULL;
		hb_error err = { 0 };
		size_t len;

		if (strstr(de->d_name, ".xml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(hb_file_read(path, 1 << 20, &xml, &len, &err), 0);
		expect_same(xml, len);
		free(xml);
		seen++;
	}
	closedir(d);
	assert_true(seen > 0);
}

static void test_message_vectors(void **state)
{
	(void)state;
	same_for_dir("valid");
	same_for_dir("invalid");
	same_for_dir("valid");
}

/* Documents with ever new element names: the codec replaces its parser
 * context (and the dictionary of names it grows) on the way; documents it
 * parsed before stay whole and are freed after it. */
static void test_new_names_do_not_accumulate(void **state)
{
	hb_xml_codec *c = NULL;
	xmlDocPtr first = NULL;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(hb_xml_codec_new(&c, &err), 0);
	for (int i = 0; i < 30000; i++) {
		char xml[128];
		xmlDocPtr doc = NULL;
		int n = snprintf(xml, sizeof(xml), "<R><NAME_%d>%d</NAME_%d></R>", i, i % 1000, i);
		assert_int_equal(hb_xml_codec_parse(c, xml, (size_t)n, &doc, &err), 0);
		if (first == NULL)
			first = doc;
		else
			xmlFreeDoc(doc);
	}
	hb_xml_codec_free(c);
	assert_string_equal((const char *)xmlDocGetRootElement(first)->children->name, "NAME_0");
	xmlFreeDoc(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_documents),
		cmocka_unit_test(test_message_vectors),
		cmocka_unit_test(test_new_names_do_not_accumulate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
