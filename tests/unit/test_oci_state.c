/* test_oci_state.c -- proves the OCI state and config.json readers take what runtimes write, refuse malformed or oversized input with the field named, and that the <CONTAINER> document escapes hostile text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci_doc.h"
#include "oci_stage.h"
#include "oci_state.h"
#include "xml.h"

/* What runc 1.1 writes on a createRuntime hook's stdin. */
static const char runc_state[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"id\":\"web-1\",\"status\":\"creating\",\"pid\":17762,"
	"\"bundle\":\"/run/b\",\"annotations\":{\"a.b\":\"x\\u003cy\",\"io.k8s/ns\":\"prod\"}}";

static hb_oci_state *state_ok(const char *json, size_t len)
{
	hb_oci_state *s = NULL;
	hb_error err = { 0 };
	int rc = hb_oci_state_parse(json, len, &s, &err);

	if (rc != 0)
		print_error("unexpected error: %s\nfor: %.200s\n", err.msg, json);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

/* Asserts that json (len bytes) is refused with code and a message holding want. */
static void state_refused(const char *json, size_t len, int code, const char *want)
{
	hb_oci_state *s = (hb_oci_state *)&s;
	hb_error err = { 0 };
	int rc = hb_oci_state_parse(json, len, &s, &err);

	if (rc != code || strstr(err.msg, want) == NULL)
		print_error("got %d '%s', wanted %d '%s' for: %.200s\n", rc, err.msg, code, want, json);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.msg, want));
	assert_ptr_equal(s, (hb_oci_state *)&s);
}

static void refused(const char *json, const char *want)
{
	state_refused(json, strlen(json), -HB_EINVAL, want);
}

static void test_runc_state(void **unused)
{
	hb_oci_state *s = state_ok(runc_state, strlen(runc_state));

	(void)unused;
	assert_string_equal(s->oci_version, "1.0.2-dev");
	assert_string_equal(s->id, "web-1");
	assert_string_equal(s->status, "creating");
	assert_string_equal(s->bundle, "/run/b");
	assert_int_equal(s->pid, 17762);
	assert_int_equal(s->nannotations, 2);
	assert_string_equal(s->annotations[0].key, "a.b");
	assert_string_equal(s->annotations[0].value, "x<y");
	assert_string_equal(s->annotations[1].key, "io.k8s/ns");
	assert_string_equal(s->annotations[1].value, "prod");
	hb_oci_state_free(s);
	hb_oci_state_free(NULL);
}

/* A poststop state has no pid; bundle and annotations may be absent, other
 * members are ignored, and the input needs no terminating NUL. */
static void test_optional_fields(void **unused)
{
	const char *j = "{\"ociVersion\":\"1.0.0\",\"id\":\"c\",\"status\":\"stopped\",\"extra\":[1,{}]}XXXX";
	hb_oci_state *s = state_ok(j, strlen(j) - 4);

	(void)unused;
	assert_int_equal(s->pid, -1);
	assert_null(s->bundle);
	assert_int_equal(s->nannotations, 0);
	hb_oci_state_free(s);
	j = "{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"pid\":null,\"bundle\":null,\"annotations\":null}";
	s = state_ok(j, strlen(j));
	assert_int_equal(s->pid, -1);
	hb_oci_state_free(s);
}

static void test_malformed(void **unused)
{
	static const char nul_inside[] = "{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\"}\0{}";

	(void)unused;
	refused("", "not valid JSON");
	refused("{", "not valid JSON");
	refused("{\"id\":\"c\"} trailing", "not valid JSON");
	refused("[]", "not a JSON object");
	refused("\"id\"", "not valid JSON");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"x\":\"\xff\"}", "not valid JSON");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\\u0000d\",\"status\":\"s\"}", "not valid JSON");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"id\":\"d\",\"status\":\"s\"}", "duplicate");
	state_refused(nul_inside, sizeof(nul_inside) - 1, -HB_EINVAL, "not valid JSON");
}

static void test_required_and_types(void **unused)
{
	(void)unused;
	refused("{\"ociVersion\":\"1\",\"status\":\"s\"}", "container state: id is missing");
	refused("{\"id\":\"c\",\"status\":\"s\"}", "ociVersion is missing");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\"}", "status is missing");
	refused("{\"ociVersion\":\"1\",\"id\":null,\"status\":\"s\"}", "id is missing");
	refused("{\"ociVersion\":\"1\",\"id\":7,\"status\":\"s\"}", "id is not a string");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"pid\":\"7\"}", "pid is not an integer");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"pid\":-1}", "pid is not an integer");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"pid\":1.5}", "pid is not an integer");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"pid\":99999999999}", "pid is not an integer");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"bundle\":[]}", "bundle is not a string");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"annotations\":[]}", "annotations is not an object");
	refused("{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"annotations\":{\"k\":1}}",
		"annotation 'k' is not a string");
}

/* The id becomes RESOURCE_ID and a field of the bus keys. */
static void test_id(void **unused)
{
	char *long_id = malloc(HB_OCI_ID_MAX + 2), *j = NULL;
	hb_oci_state *s;

	(void)unused;
	refused("{\"ociVersion\":\"1\",\"id\":\"\",\"status\":\"s\"}", "not a usable container id");
	refused("{\"ociVersion\":\"1\",\"id\":\"a/b\",\"status\":\"s\"}", "not a usable container id");
	refused("{\"ociVersion\":\"1\",\"id\":\"a b\",\"status\":\"s\"}", "not a usable container id");
	refused("{\"ociVersion\":\"1\",\"id\":\"a\\tb\",\"status\":\"s\"}", "not a usable container id");
	refused("{\"ociVersion\":\"1\",\"id\":\"caf\xc3\xa9\",\"status\":\"s\"}", "not a usable container id");
	assert_non_null(long_id);
	memset(long_id, 'a', HB_OCI_ID_MAX + 1);
	long_id[HB_OCI_ID_MAX + 1] = '\0';
	assert_true(asprintf(&j, "{\"ociVersion\":\"1\",\"id\":\"%s\",\"status\":\"s\"}", long_id) > 0);
	refused(j, "not a usable container id");
	free(j);
	long_id[HB_OCI_ID_MAX] = '\0';
	assert_true(asprintf(&j, "{\"ociVersion\":\"1\",\"id\":\"%s\",\"status\":\"s\"}", long_id) > 0);
	s = state_ok(j, strlen(j));
	assert_int_equal(strlen(s->id), HB_OCI_ID_MAX);
	hb_oci_state_free(s);
	free(j);
	free(long_id);
}

/* Builds a state whose annotations take about size bytes. */
static char *big_state(size_t size, size_t *len)
{
	size_t cap = size + 4096, n;
	char *j = malloc(cap);
	size_t i = 0;

	assert_non_null(j);
	n = (size_t)snprintf(j, cap, "{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"s\",\"annotations\":{");
	while (n < size) {
		n += (size_t)snprintf(j + n, cap - n, "%s\"key%zu\":\"%0100zu\"", i ? "," : "", i, i);
		i++;
	}
	n += (size_t)snprintf(j + n, cap - n, "}}");
	*len = n;
	return j;
}

static void test_huge_annotations(void **unused)
{
	size_t len;
	char *j = big_state(HB_OCI_STATE_MAX - 1024, &len);
	hb_oci_state *s;
	char last[32];

	(void)unused;
	assert_true(len <= HB_OCI_STATE_MAX);
	s = state_ok(j, len);
	assert_true(s->nannotations > 8000);
	snprintf(last, sizeof(last), "key%zu", s->nannotations - 1);
	assert_string_equal(s->annotations[s->nannotations - 1].key, last);
	hb_oci_state_free(s);
	free(j);
	j = big_state(HB_OCI_STATE_MAX + 1, &len);
	state_refused(j, len, -HB_ETOOBIG, "larger than");
	free(j);
}

/* A trimmed `runc spec` with a user and a bind mount. */
static const char runc_config[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,"
	"\"additionalGids\":[5,27]},\"args\":[\"/bin/sh\",\"-c\",\"exit 0\"],\"cwd\":\"/\","
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],\"effective\":[\"CAP_KILL\"],"
	"\"permitted\":[\"CAP_KILL\"]},\"noNewPrivileges\":true},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"runc\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\",\"options\":[\"rbind\",\"ro\"]}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}";

static hb_oci_config *config_ok(const char *json)
{
	hb_oci_config *c = NULL;
	hb_error err = { 0 };
	int rc = hb_oci_config_parse(json, strlen(json), &c, &err);

	if (rc != 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	return c;
}

static void config_refused(const char *json, const char *want)
{
	hb_oci_config *c = NULL;
	hb_error err = { 0 };
	int rc = hb_oci_config_parse(json, strlen(json), &c, &err);

	if (rc != -HB_EINVAL || strstr(err.msg, want) == NULL)
		print_error("got %d '%s', wanted '%s'\n", rc, err.msg, want);
	assert_int_equal(rc, -HB_EINVAL);
	assert_non_null(strstr(err.msg, want));
	assert_null(c);
}

static void test_config(void **unused)
{
	hb_oci_config *c = config_ok(runc_config);

	(void)unused;
	assert_string_equal(c->hostname, "runc");
	assert_int_equal(c->args.n, 3);
	assert_string_equal(c->args.v[2], "exit 0");
	assert_true(c->has_user);
	assert_int_equal(c->uid, 1000);
	assert_int_equal(c->gid, 100);
	assert_int_equal(c->additional_gids.n, 2);
	assert_string_equal(c->additional_gids.v[1], "27");
	assert_int_equal(c->no_new_privileges, 1);
	assert_true(c->has_capabilities);
	assert_int_equal(c->cap_bounding.n, 2);
	assert_string_equal(c->cap_effective.v[0], "CAP_KILL");
	assert_string_equal(c->root_path, "rootfs");
	assert_int_equal(c->root_readonly, 1);
	assert_int_equal(c->nmounts, 2);
	assert_string_equal(c->mounts[1].source, "/srv/data");
	assert_string_equal(c->mounts[1].options.v[1], "ro");
	assert_int_equal(c->mounts[0].options.n, 0);
	assert_int_equal(c->nnamespaces, 2);
	assert_null(c->namespaces[0].path);
	assert_string_equal(c->namespaces[1].path, "/proc/1/ns/net");
	hb_oci_config_free(c);
	c = config_ok("{}");
	assert_null(c->hostname);
	assert_false(c->has_user);
	assert_false(c->has_capabilities);
	assert_int_equal(c->no_new_privileges, -1);
	assert_int_equal(c->root_readonly, -1);
	hb_oci_config_free(c);
	hb_oci_config_free(NULL);
}

static void test_config_refused(void **unused)
{
	(void)unused;
	config_refused("{", "config.json: not valid JSON");
	config_refused("{\"process\":[]}", "process is not an object");
	config_refused("{\"process\":{\"args\":\"sh\"}}", "process.args is not an array");
	config_refused("{\"process\":{\"args\":[\"sh\",3]}}", "process.args[1] is not a string");
	config_refused("{\"process\":{\"user\":{\"uid\":4294967296}}}", "process.user.uid is not an integer");
	config_refused("{\"process\":{\"noNewPrivileges\":\"yes\"}}", "process.noNewPrivileges is not a boolean");
	config_refused("{\"mounts\":[{\"destination\":\"/a\"},7]}", "mounts[1] is not an object");
	config_refused("{\"mounts\":[{\"type\":\"bind\"}]}", "mounts[0].destination is missing");
	config_refused("{\"linux\":{\"namespaces\":[{\"path\":\"/x\"}]}}", "linux.namespaces[0].type is missing");
	config_refused("{\"hostname\":false}", "hostname is not a string");
}

static void test_stages(void **unused)
{
	(void)unused;
	assert_string_equal(hb_oci_stage_find("createRuntime")->state, "CREATE_RUNTIME");
	assert_string_equal(hb_oci_stage_find("CREATE_CONTAINER")->oci, "createContainer");
	assert_string_equal(hb_oci_stage_find("startcontainer")->state, "START_CONTAINER");
	assert_string_equal(hb_oci_stage_find("PostStop")->oci, "poststop");
	assert_string_equal(hb_oci_stage_find("prestart")->state, "PRESTART");
	assert_null(hb_oci_stage_find("create-runtime"));
	assert_null(hb_oci_stage_find(""));
	assert_null(hb_oci_stage_find(NULL));
}

/* Hostile annotation text comes out escaped, characters XML cannot hold
 * become U+FFFD, and the document parses again. */
static void test_document(void **unused)
{
	const char *j = "{\"ociVersion\":\"1\",\"id\":\"c\",\"status\":\"creating\",\"pid\":3,"
			"\"annotations\":{\"<k>\":\"a&b</VALUE><X>\\u0001\\u001f\\t\\uffff]]>\"}}";
	hb_oci_state *s = state_ok(j, strlen(j));
	hb_oci_config *c = config_ok(runc_config);
	xmlDocPtr doc = NULL, back = NULL;
	hb_error err = { 0 };
	char *text, *v;
	size_t len;

	(void)unused;
	assert_int_equal(hb_oci_doc_build(s, c, hb_oci_stage_find("poststop"), &doc, &err), 0);
	text = hb_xml_dump(xmlDocGetRootElement(doc), &len);
	assert_non_null(text);
	assert_int_equal(hb_xml_parse(text, len, &back, &err), 0);
	v = hb_xml_xpath_str(back, "/CONTAINER/ANNOTATIONS/ANNOTATION/VALUE");
	assert_string_equal(v, "a&b</VALUE><X>\xef\xbf\xbd\xef\xbf\xbd\t\xef\xbf\xbd]]>");
	free(v);
	v = hb_xml_xpath_str(back, "/CONTAINER/ANNOTATIONS/ANNOTATION/KEY");
	assert_string_equal(v, "<k>");
	free(v);
	v = hb_xml_xpath_str(back, "concat(/CONTAINER/STAGE, ' ', /CONTAINER/PID, ' ', count(/CONTAINER/BUNDLE), ' ', "
				   "/CONTAINER/PROCESS/USER/UID, ' ', /CONTAINER/MOUNTS/MOUNT[2]/OPTIONS/OPTION[2], ' ', "
				   "/CONTAINER/PROCESS/NO_NEW_PRIVILEGES, ' ', /CONTAINER/NAMESPACES/NAMESPACE[2]/PATH)");
	assert_string_equal(v, "poststop 3 0 1000 ro YES /proc/1/ns/net");
	free(v);
	free(text);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
	/* Without config.json the document has the state only. */
	assert_int_equal(hb_oci_doc_build(s, NULL, hb_oci_stage_find("createRuntime"), &doc, &err), 0);
	assert_null(hb_xml_child(xmlDocGetRootElement(doc), "PROCESS"));
	assert_non_null(hb_xml_child(xmlDocGetRootElement(doc), "ANNOTATIONS"));
	xmlFreeDoc(doc);
	hb_oci_config_free(c);
	hb_oci_state_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runc_state),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_required_and_types),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_huge_annotations),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
