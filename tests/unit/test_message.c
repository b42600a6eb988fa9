/* test_message.c -- proves HOOK_MESSAGE decoding, checking, SEQ insertion and byte-exact key derivation. */
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

#include "base64.h"
#include "message.h"
#include "schema.h"
#include "vectors.h"
#include "xml.h"

static hb_schema *g_schema;

static int setup(void **state)
{
	hb_error err = { 0 };

	(void)state;
	if (hb_schema_load("hook_message.xsd", &g_schema, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hb_schema_free(g_schema);
	xmlCleanupParser();
	return 0;
}

/* Parses xml (which must be valid), derives its keys and compares them. */
static void expect_keys(const char *xml, const char *k0, const char *k1, const char *k2)
{
	const char *want[3] = { k0, k1, k2 };
	hb_message *m = NULL;
	hb_keys keys = { 0 };
	hb_error err = { 0 };
	size_t n = k2 ? 3 : k1 ? 2 : 1;

	if (hb_message_from_xml(xml, strlen(xml), g_schema, &m, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(hb_message_keys(m, &keys, &err), 0);
	assert_int_equal(keys.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(keys.key[i], want[i]);
	hb_keys_free(&keys);
	hb_message_free(m);
}

static void test_keys_api(void **state)
{
	(void)state;
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.vm.allocate</CALL><CALL_INFO>"
		    "<RESULT>1</RESULT><PARAMETERS><PARAMETER><POSITION>1</POSITION><TYPE>IN</TYPE>"
		    "<VALUE>****</VALUE></PARAMETER></PARAMETERS></CALL_INFO></HOOK_MESSAGE>",
		    "EVENT API one.vm.allocate 1", NULL, NULL);
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.vm.update</CALL><CALL_INFO>"
		    "<RESULT>0</RESULT><PARAMETERS/></CALL_INFO></HOOK_MESSAGE>",
		    "EVENT API one.vm.update 0", NULL, NULL);
}

static void test_keys_vm(void **state)
{
	(void)state;
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>VM</HOOK_OBJECT>"
		    "<STATE>PENDING</STATE><LCM_STATE>LCM_INIT</LCM_STATE><RESOURCE_ID>0</RESOURCE_ID>"
		    "<REMOTE_HOST/><VM><ID>0</ID></VM></HOOK_MESSAGE>",
		    "EVENT VM 0/PENDING/LCM_INIT ", "EVENT STATE VM/PENDING/LCM_INIT/0 ", NULL);
}

static void test_keys_service(void **state)
{
	(void)state;
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>VM</HOOK_OBJECT>"
		    "<STATE>ACTIVE</STATE><LCM_STATE>RUNNING</LCM_STATE><RESOURCE_ID>12</RESOURCE_ID>"
		    "<SERVICE_ID>7</SERVICE_ID><REMOTE_HOST>node1</REMOTE_HOST><VM><ID>12</ID></VM></HOOK_MESSAGE>",
		    "EVENT VM 12/ACTIVE/RUNNING ", "EVENT STATE VM/ACTIVE/RUNNING/12 ", "EVENT SERVICE 7 ");
}

static void test_keys_host_image_net(void **state)
{
	(void)state;
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>HOST</HOOK_OBJECT>"
		    "<STATE>ERROR</STATE><REMOTE_HOST>node5</REMOTE_HOST><RESOURCE_ID>5</RESOURCE_ID>"
		    "<HOST><ID>5</ID></HOST></HOOK_MESSAGE>",
		    "EVENT HOST 5/ERROR/ ", "EVENT STATE HOST/ERROR//5 ", NULL);
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>IMAGE</HOOK_OBJECT>"
		    "<STATE>READY</STATE><RESOURCE_ID>3</RESOURCE_ID><IMAGE><ID>3</ID></IMAGE></HOOK_MESSAGE>",
		    "EVENT IMAGE 3/READY/ ", "EVENT STATE IMAGE/READY//3 ", NULL);
	expect_keys("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>NET</HOOK_OBJECT>"
		    "<STATE>READY</STATE><RESOURCE_ID>9</RESOURCE_ID><VNET><ID>9</ID></VNET></HOOK_MESSAGE>",
		    "EVENT NET 9/READY/ ", "EVENT STATE NET/READY//9 ", NULL);
}

static void test_built_messages(void **state)
{
	hb_state_event ev = { .object = "HOST", .id = "5", .state = "ERROR", .remote_host = "node5" };
	hb_message *m = NULL, *back = NULL;
	hb_keys keys = { 0 };
	hb_error err = { 0 };
	const char *in[] = { "****", "<x>&amp;\"'" };
	char *b64;
	size_t len;

	(void)state;
	assert_int_equal(hb_message_new_state(&ev, NULL, &m, &err), 0);
	assert_int_equal(hb_message_set_seq(m, 42, &err), 0);
	b64 = hb_message_to_base64(m, &len);
	assert_non_null(b64);
	if (hb_message_from_base64(b64, len, 1 << 20, g_schema, &back, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(back->seq, 42);
	assert_string_equal(back->remote_host, "node5");
	assert_int_equal(hb_message_keys(back, &keys, &err), 0);
	assert_string_equal(keys.key[1], "EVENT STATE HOST/ERROR//5 ");
	hb_keys_free(&keys);
	hb_message_free(back);
	hb_message_free(m);
	free(b64);

	assert_int_equal(hb_message_new_api("one.vm.allocate", 1, in, 2, NULL, 0, "<VM><ID>3</ID></VM>", &m, &err), 0);
	b64 = hb_message_to_base64(m, &len);
	if (hb_message_from_base64(b64, len, 1 << 20, g_schema, &back, &err) < 0)
		fail_msg("%s", err.msg);
	{
		char *v = hb_xml_xpath_str(back->doc, "/HOOK_MESSAGE/CALL_INFO/PARAMETERS/PARAMETER[POSITION=2]/VALUE");
		assert_string_equal(v, "<x>&amp;\"'");
		free(v);
		v = hb_xml_xpath_str(back->doc, "/HOOK_MESSAGE/CALL_INFO/EXTRA/VM/ID");
		assert_string_equal(v, "3");
		free(v);
	}
	hb_message_free(back);
	hb_message_free(m);
	free(b64);
}

static void test_seq_replaced_not_duplicated(void **state)
{
	const char *xml = "<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><SEQ>5</SEQ><CALL>one.host.create</CALL>"
			  "<CALL_INFO><RESULT>1</RESULT><PARAMETERS/></CALL_INFO></HOOK_MESSAGE>";
	hb_message *m = NULL;
	hb_error err = { 0 };
	char *s;

	(void)state;
	assert_int_equal(hb_message_from_xml(xml, strlen(xml), g_schema, &m, &err), 0);
	assert_int_equal(m->seq, 5);
	assert_int_equal(hb_message_set_seq(m, 6, &err), 0);
	s = hb_xml_xpath_str(m->doc, "count(/HOOK_MESSAGE/SEQ)");
	assert_string_equal(s, "1");
	free(s);
	s = hb_xml_xpath_str(m->doc, "name(/HOOK_MESSAGE/*[2])");
	assert_string_equal(s, "SEQ");
	free(s);
	hb_message_free(m);
}

static void expect_refused(const char *xml, const char *fragment)
{
	hb_message *m = NULL;
	hb_error err = { 0 };

	assert_true(hb_message_from_xml(xml, strlen(xml), g_schema, &m, &err) < 0);
	assert_null(m);
	if (strstr(err.msg, fragment) == NULL)
		fail_msg("expected '%s' in '%s'", fragment, err.msg);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("<HOOK_MESSAGE><HOOK_TYPE>API", "malformed XML");
	expect_refused("<!DOCTYPE x [<!ENTITY a \"b\">]><HOOK_MESSAGE/>", "document type");
	expect_refused("<HOOK_MESSAGE><HOOK_TYPE>BOGUS</HOOK_TYPE></HOOK_MESSAGE>", "invalid document");
	expect_refused("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.vm.allocate</CALL><CALL_INFO>"
		       "<RESULT>2</RESULT><PARAMETERS/></CALL_INFO></HOOK_MESSAGE>", "invalid document");
	expect_refused("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>CONTAINER</HOOK_OBJECT>"
		       "<STATE>POSTSTOP</STATE><RESOURCE_ID>3</RESOURCE_ID><REMOTE_HOST/><VM><ID>3</ID></VM>"
		       "</HOOK_MESSAGE>", "must be <CONTAINER>");
	expect_refused("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>IMAGE</HOOK_OBJECT>"
		       "<STATE>READY</STATE><RESOURCE_ID>3/4</RESOURCE_ID><IMAGE/></HOOK_MESSAGE>",
		       "RESOURCE_ID");
}

static void test_builder_refuses(void **state)
{
	hb_state_event vm_no_lcm = { .object = "VM", .id = "1", .state = "PENDING" };
	hb_state_event bad_state = { .object = "HOST", .id = "1", .state = "ERR OR" };
	hb_state_event image_host = { .object = "IMAGE", .id = "1", .state = "READY", .remote_host = "x" };
	hb_message *m = NULL;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(hb_message_new_state(&vm_no_lcm, NULL, &m, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "LCM"));
	assert_int_equal(hb_message_new_state(&bad_state, NULL, &m, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "STATE"));
	assert_int_equal(hb_message_new_state(&image_host, NULL, &m, &err), -HB_EINVAL);
	assert_int_equal(hb_message_new_api("one vm", 1, NULL, 0, NULL, 0, NULL, &m, &err), -HB_EINVAL);
	assert_int_equal(hb_message_new_api("one.vm.x", 1, NULL, 0, NULL, 0, "<unclosed>", &m, &err), -HB_EINVAL);
	assert_non_null(strstr(err.msg, "EXTRA"));
	assert_null(m);
}

/* One vector through the decoder: accepted when ctx points to true. */
static void check_vector(const char *name, const char *xml, size_t len, void *ctx)
{
	bool accept = *(bool *)ctx;
	hb_message *m = NULL;
	hb_keys keys = { 0 };
	hb_error err = { 0 };
	int rc;

	rc = hb_message_from_xml(xml, len, g_schema, &m, &err);
	if (rc == 0)
		rc = hb_message_keys(m, &keys, &err);
	if (accept && rc < 0)
		fail_msg("%s refused: %s", name, err.msg);
	if (!accept && rc == 0)
		fail_msg("%s accepted", name);
	hb_keys_free(&keys);
	hb_message_free(m);
}

/* Every document of tests/data/messages/<kind>/: all of valid/ must be
 * accepted, none of invalid/. */
static void check_vectors(const char *kind, bool accept)
{
	hb_vectors_each(kind, check_vector, &accept);
}

static void test_valid_vectors(void **state)
{
	(void)state;
	check_vectors("valid", true);
}

static void test_invalid_vectors(void **state)
{
	(void)state;
	check_vectors("invalid", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_api),
		cmocka_unit_test(test_keys_vm),
		cmocka_unit_test(test_keys_service),
		cmocka_unit_test(test_keys_host_image_net),
		cmocka_unit_test(test_built_messages),
		cmocka_unit_test(test_seq_replaced_not_duplicated),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_builder_refuses),
		cmocka_unit_test(test_valid_vectors),
		cmocka_unit_test(test_invalid_vectors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
