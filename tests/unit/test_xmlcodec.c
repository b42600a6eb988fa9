/* test_xmlcodec.c -- proves a reused parser and serializer give what fresh ones give: same documents, same refusals, same bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "message.h"
#include "schema.h"
#include "vectors.h"
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
		/* A default namespace declared in a refused document must not
		 * reach the next one through the parser context. */
		"<!DOCTYPE HOOK_MESSAGE [<!ATTLIST HOOK_TYPE xmlns CDATA \"urn:x\"><!ATTLIST CALL xmlns:p CDATA \"urn:p\">]>"
		"<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE></HOOK_MESSAGE>",
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

static void same_for_vector(const char *name, const char *xml, size_t len, void *ctx)
{
	(void)name;
	(void)ctx;
	expect_same(xml, len);
}

static void same_for_dir(const char *kind)
{
	hb_vectors_each(kind, same_for_vector, NULL);
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

/* Random documents around the edges of what hb_xml_codec_verbatim() takes
 * (names, references, empty elements, attributes, comments, declarations,
 * text around the root): whenever it answers true, the serializer gives the
 * text back byte for byte, and putting <SEQ> at *after gives what the
 * serializer writes once SEQ is added after HOOK_TYPE.  Enough of them are
 * taken for the check to mean something. */
static void test_verbatim_is_the_serialization(void **state)
{
	static const char *const names[] = { "HOOK_TYPE", "SEQ", "A", "b.c-d", "_e9", "n:x" };
	static const char *const texts[] = {
		"", "x", "API", "&amp;", "&lt;", "&gt;", "&#13;", "&quot;", "&apos;", "&#65;", "&#x3E;", ">", "'\"",
		"\r\n", "\xc3\xa9", " \n\t", "<![CDATA[a]]>", "<!--c-->", "<?p i?>", "]]",
	};
	static const char *const outer[] = { "", "", "", "\n", " ", "<?xml version=\"1.0\"?>", "<!--c-->", "\xef\xbb\xbf" };
	unsigned seed = 7;
	size_t taken = 0, with_child = 0;

	(void)state;
#define RND(n) (seed = seed * 1103515245u + 12345u, (seed >> 16) % (n))
	for (int round = 0; round < 20000; round++) {
		char xml[2048];
		size_t n = 0, after = 0, dlen;
		int kids = (int)RND(5);
		xmlDocPtr doc = NULL;
		hb_error err = { 0 };
		char *dump;

		n += (size_t)sprintf(xml + n, "%s<HOOK_MESSAGE>", outer[RND(8) % 3 ? 0 : RND(8)]);
		for (int k = 0; k < kids; k++) {
			/* Mostly what verbatim text is made of, sometimes anything. */
			const char *name = names[RND(4) ? (RND(2) ? 0 : 2 + RND(3)) : RND(6)];
			const char *text = texts[RND(4) ? RND(7) : RND(sizeof(texts) / sizeof(texts[0]))];
			switch (RND(8)) {
			case 0:
				n += (size_t)sprintf(xml + n, "<%s/>", name);
				break;
			case 1:
				n += (size_t)sprintf(xml + n, "<%s></%s>", name, name);
				break;
			case 2:
				n += (size_t)sprintf(xml + n, "<%s a=\"1\">%s</%s>", name, text, name);
				break;
			case 3:
				n += (size_t)sprintf(xml + n, "%s<%s><X>%s</X></%s>", texts[RND(4)], name, text, name);
				break;
			default:
				n += (size_t)sprintf(xml + n, "<%s>%s%s</%s>", name, text, texts[RND(8)], name);
				break;
			}
		}
		n += (size_t)sprintf(xml + n, "</HOOK_MESSAGE>%s", outer[RND(8) % 3 ? 0 : RND(8)]);
		if (hb_xml_parse(xml, n, &doc, &err) < 0)
			continue;
		if (hb_xml_codec_verbatim(xml, n, "HOOK_TYPE", "SEQ", &after)) {
			xmlNodePtr root = xmlDocGetRootElement(doc), type = hb_xml_child(root, "HOOK_TYPE");
			dump = hb_xml_dump(root, &dlen);
			assert_non_null(dump);
			if (dlen != n || memcmp(dump, xml, n) != 0)
				fail_msg("taken as verbatim but serialized differently:\n%.*s\n%s", (int)n, xml, dump);
			free(dump);
			assert_null(hb_xml_child(root, "SEQ"));
			assert_int_equal(after == 0, type == NULL);
			if (type != NULL) {
				char spliced[2100];
				xmlAddNextSibling(type, xmlNewDocNode(doc, NULL, BAD_CAST "SEQ", BAD_CAST "12"));
				memcpy(spliced, xml, after);
				memcpy(spliced + after, "<SEQ>12</SEQ>", 13);
				memcpy(spliced + after + 13, xml + after, n - after);
				dump = hb_xml_dump(root, &dlen);
				assert_int_equal(dlen, n + 13);
				assert_memory_equal(dump, spliced, dlen);
				free(dump);
				with_child++;
			}
			taken++;
		}
		xmlFreeDoc(doc);
	}
#undef RND
	print_message("%zu of 20000 taken, %zu with HOOK_TYPE\n", taken, with_child);
	assert_true(taken > 1000);
	assert_true(with_child > 500);
}

/* What emitters send is kept as its own serialization (hookbus's builders
 * write through libxml2), so the publisher adds SEQ without serializing;
 * a document the serializer would change is serialized, with the same
 * bytes as ever. */
static void test_emitted_messages_keep_their_text(void **state)
{
	hb_state_event ev = { .object = "VM", .id = "42", .state = "ACTIVE", .lcm_state = "RUNNING",
			      .remote_host = "node & 1" };
	const char *in[] = { "****", "<tpl>" };
	hb_message *built = NULL, *m = NULL, *plain = NULL;
	hb_error err = { 0 };
	char *b64, *a, *b;
	size_t len, la, lb;

	(void)state;
	for (int kind = 0; kind < 3; kind++) {
		if (kind == 0)
			assert_int_equal(hb_message_new_state(&ev, NULL, &built, &err), 0);
		else if (kind == 1)
			assert_int_equal(hb_message_new_api("one.vm.allocate", 1, in, 2, NULL, 0, "<VM><ID>3</ID></VM>",
							    &built, &err), 0);
		else
			assert_int_equal(hb_message_new_api("one.vm.allocate", 1, in, 2, NULL, 0, "<VM a=\"1\"/>",
							    &built, &err), 0);
		b64 = hb_message_to_base64(built, &len);
		assert_non_null(b64);
		assert_int_equal(hb_message_decode(g_codec, b64, len, 1 << 20, g_schema, &m, &err), 0);
		assert_int_equal(hb_message_from_base64(b64, len, 1 << 20, g_schema, &plain, &err), 0);
		if (kind < 2)
			assert_non_null(m->src);
		else
			assert_null(m->src);
		assert_null(plain->src);
		assert_int_equal(hb_message_set_seq(m, 18446744073709551615u, &err), 0);
		assert_int_equal(hb_message_set_seq(plain, 18446744073709551615u, &err), 0);
		a = hb_message_encode(g_codec, m, &la);
		b = hb_message_to_base64(plain, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
		free(b64);
		hb_message_free(built);
		hb_message_free(m);
		hb_message_free(plain);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_documents),
		cmocka_unit_test(test_message_vectors),
		cmocka_unit_test(test_new_names_do_not_accumulate),
		cmocka_unit_test(test_verbatim_is_the_serialization),
		cmocka_unit_test(test_emitted_messages_keep_their_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
