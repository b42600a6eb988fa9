/* test_resources.c -- proves resources.conf is read into objects and shortcuts, and mistakes are placed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resources.h"

static const char sample[] =
	"# objects of a test bus\n"
	"RESOURCE = [\n"
	"  NAME       = VM,\n"
	"  ROOT       = VM,\n"
	"  STATES     = \"INIT PENDING HOLD ACTIVE STOPPED DONE\",\n"
	"  LCM_STATES = \"LCM_INIT PROLOG BOOT RUNNING EPILOG UNKNOWN BOOT_UNKNOWN\",\n"
	"  ON         = \"PROLOG:ACTIVE/PROLOG RUNNING:ACTIVE/RUNNING SHUTDOWN:ACTIVE/EPILOG\n"
	"                STOP:STOPPED/LCM_INIT DONE:DONE/LCM_INIT unknown:ACTIVE/UNKNOWN\" ]\n"
	"\n"
	"RESOURCE = [ NAME = NET, ROOT = VNET, STATES = \"INIT READY LOCK_CREATE ERROR\" ]\n"
	"RESOURCE = [ NAME = HOST, STATES = \"INIT MONITORED ERROR DISABLED\", LCM_STATES = \"\",\n"
	"             ON = \"FAILED:ERROR OFF:DISABLED/\" ]\n";

static hb_resources *parse_ok(const char *text)
{
	hb_resources *r = NULL;
	hb_error err = { 0 };
	int rc = hb_resources_parse(text, strlen(text), &r, &err);

	if (rc != 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(r);
	return r;
}

/* Asserts that text is refused and that the message starts with where and
 * holds what. */
static void refuse(const char *text, const char *where, const char *what)
{
	hb_resources *r = NULL;
	hb_error err = { 0 };
	int rc = hb_resources_parse(text, strlen(text), &r, &err);

	if (rc != -HB_EINVAL || strncmp(err.msg, where, strlen(where)) != 0 || strstr(err.msg, what) == NULL)
		print_error("got %d '%s', wanted '%s...%s'\n", rc, err.msg, where, what);
	assert_int_equal(rc, -HB_EINVAL);
	assert_null(r);
	assert_true(strncmp(err.msg, where, strlen(where)) == 0);
	assert_non_null(strstr(err.msg, what));
}

/* Asserts that shortcut on of res maps to state and lcm. */
static void assert_on(const hb_resource *res, const char *on, const char *state, const char *lcm)
{
	const hb_on_shortcut *s = hb_resource_on(res, on);

	if (s == NULL)
		print_error("%s has no shortcut %s\n", res->name, on);
	assert_non_null(s);
	assert_string_equal(s->state, state);
	assert_string_equal(s->lcm, lcm);
}

static void test_sample(void **state)
{
	hb_resources *r = parse_ok(sample);
	const hb_resource *vm, *net, *host;

	(void)state;
	assert_int_equal(r->n, 3);
	vm = hb_resources_find(r, "VM");
	net = hb_resources_find(r, "NET");
	host = hb_resources_find(r, "HOST");
	assert_non_null(vm);
	assert_non_null(net);
	assert_non_null(host);
	assert_ptr_equal(vm, &r->r[0]);
	assert_null(hb_resources_find(r, "vm"));
	assert_null(hb_resources_find(r, "IMAGE"));

	assert_string_equal(vm->root, "VM");
	assert_int_equal(vm->nstates, 6);
	assert_string_equal(vm->states[3], "ACTIVE");
	assert_int_equal(vm->nlcm, 7);
	assert_true(hb_resource_has_state(vm, "STOPPED"));
	assert_false(hb_resource_has_state(vm, "stopped"));
	assert_false(hb_resource_has_state(vm, "RUNNING"));
	assert_true(hb_resource_has_lcm(vm, "BOOT_UNKNOWN"));
	assert_false(hb_resource_has_lcm(vm, "BOOT_"));
	assert_int_equal(vm->non, 6);
	assert_on(vm, "RUNNING", "ACTIVE", "RUNNING");
	assert_on(vm, "running", "ACTIVE", "RUNNING");
	assert_on(vm, "STOP", "STOPPED", "LCM_INIT");
	assert_on(vm, "UNKNOWN", "ACTIVE", "UNKNOWN");
	assert_string_equal(hb_resource_on(vm, "unknown")->name, "UNKNOWN");
	assert_null(hb_resource_on(vm, "CUSTOM"));

	assert_string_equal(net->root, "VNET");
	assert_int_equal(net->nlcm, 0);
	assert_int_equal(net->non, 0);
	assert_null(hb_resource_on(net, "RUNNING"));

	assert_string_equal(host->root, "HOST");
	assert_int_equal(host->nlcm, 0);
	assert_false(hb_resource_has_lcm(host, ""));
	assert_on(host, "FAILED", "ERROR", "");
	assert_on(host, "OFF", "DISABLED", "");
	hb_resources_free(r);
	hb_resources_free(NULL);

	r = parse_ok("# nothing yet\n");
	assert_int_equal(r->n, 0);
	assert_null(hb_resources_find(r, "VM"));
	hb_resources_free(r);
}

static void test_errors(void **state)
{
	(void)state;
	refuse("RESOURCE = [ NAME = VM, STATES = A ]\n\nRESOURCE = [ STATES = \"A B\" ]\n",
	       "line 3, column 1: ", "RESOURCE without NAME");
	refuse("RESOURCE = [ NAME =, STATES = A ]\n", "line 1, column 1: ", "without NAME");
	refuse("RESOURCE = [ NAME = vm, STATES = A ]\n", "line 1, column 1: ", "not an upper-case name");
	refuse("RESOURCE = [ NAME = VM, STATES = A ]\n"
	       "RESOURCE = [ NAME = HOST, STATES = A ]\n"
	       "  RESOURCE = [ NAME = VM, STATES = B ]\n",
	       "line 3, column 3: ", "RESOURCE VM defined twice (first at line 1)");
	refuse("RESOURCE = [ NAME = HOST, STATES = \"INIT ERROR\", ON = \"BAD:FAILED\" ]\n",
	       "line 1, column 1: ", "ON entry 'BAD:FAILED' names state FAILED, which HOST does not have");
	refuse("RESOURCE = [ NAME = VM, STATES = \"ACTIVE\", LCM_STATES = \"RUNNING\",\n"
	       "  ON = \"RUNNING:ACTIVE/RUNNING BOOT:ACTIVE/BOOT\" ]\n",
	       "line 1, column 1: ", "names LCM state BOOT, which VM does not have");
	refuse("RESOURCE = [ NAME = HOST, STATES = \"ERROR\", ON = \"E:ERROR/ANY\" ]\n",
	       "line 1, column 1: ", "names LCM state ANY");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, LCM_STATES = RUNNING, ON = \"R:ACTIVE\" ]\n",
	       "line 1, column 1: ", "needs an LCM state");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = RUNNING ]\n", "line 1, column 1: ",
	       "malformed ON entry 'RUNNING'");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = \":ACTIVE\" ]\n", "line 1, column 1: ",
	       "malformed ON entry");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = \"X:\" ]\n", "line 1, column 1: ",
	       "malformed ON entry");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = \"X:ACTIVE/A/B\" ]\n", "line 1, column 1: ",
	       "malformed ON entry");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = \"CUSTOM:ACTIVE\" ]\n", "line 1, column 1: ",
	       "CUSTOM is reserved");
	refuse("RESOURCE = [ NAME = VM, STATES = ACTIVE, ON = \"A:ACTIVE a:ACTIVE\" ]\n", "line 1, column 1: ",
	       "ON shortcut A given twice");
	refuse("RESOURCE = [ NAME = VM ]\n", "line 1, column 1: ", "RESOURCE VM has no STATES");
	refuse("RESOURCE = [ NAME = VM, STATES = \"  \" ]\n", "line 1, column 1: ", "has no STATES");
	refuse("RESOURCE = [ NAME = VM, STATES = \"A B A\" ]\n", "line 1, column 1: ", "STATES lists A twice");
	refuse("RESOURCE = [ NAME = VM, STATES = \"A B/C\" ]\n", "line 1, column 1: ",
	       "not a valid state name");
	refuse("RESOURCE = [ NAME = VM, STATES = A, COLOUR = red ]\n", "line 1, column 1: ",
	       "unknown key COLOUR");
	refuse("RESOURCE = [ NAME = VM, STATES = A, STATES = B ]\n", "line 1, column 1: ",
	       "STATES given twice");
	refuse("RESOURCE = [ NAME = VM, ROOT = \"V M\", STATES = A ]\n", "line 1, column 1: ",
	       "not an element name");
	refuse("OBJECT = [ NAME = VM, STATES = A ]\n", "line 1, column 1: ", "unknown attribute OBJECT");
	refuse("RESOURCE = VM\n", "line 1, column 1: ", "must be a vector");
	/* Syntax errors come from the template parser, placed likewise. */
	refuse("RESOURCE = [ NAME = VM,\n  STATES = A\n", "line 1, column 12: ", "missing ']'");
}

/* Builds "RESOURCE = [ NAME = VM, STATES = \"S0 S1 ...\" ]" with n states. */
static char *many_states(size_t n)
{
	char *text = malloc(64 + n * 8);
	size_t pos;

	assert_non_null(text);
	pos = (size_t)sprintf(text, "RESOURCE = [ NAME = VM, STATES = \"");
	for (size_t i = 0; i < n; i++)
		pos += (size_t)sprintf(text + pos, "S%zu ", i);
	strcpy(text + pos, "\" ]\n");
	return text;
}

static void test_limits(void **state)
{
	hb_resources *r = NULL;
	hb_error err = { 0 };
	char *text;

	(void)state;
	text = many_states(1024);
	assert_int_equal(hb_resources_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r->r[0].nstates, 1024);
	hb_resources_free(r);
	r = NULL;
	free(text);

	text = many_states(1025);
	assert_int_equal(hb_resources_parse(text, strlen(text), &r, &err), -HB_ETOOBIG);
	assert_null(r);
	assert_non_null(strstr(err.msg, "line 1, column 1: RESOURCE VM: STATES lists more than 1024 entries"));
	free(text);
}

static void test_load(void **state)
{
	const char *dir = getenv("TMPDIR");
	char path[256];
	hb_resources *r = NULL;
	hb_error err = { 0 };
	int fd;

	(void)state;
	assert_int_equal(hb_resources_load("/nonexistent/hookbus/resources.conf", &r, &err), -HB_ENOENT);
	assert_null(r);
	assert_non_null(strstr(err.msg, "/nonexistent/hookbus/resources.conf"));

	snprintf(path, sizeof(path), "%s/hb_test_resources_XXXXXX", dir && dir[0] ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sample, strlen(sample)), (ssize_t)strlen(sample));
	assert_int_equal(close(fd), 0);
	assert_int_equal(hb_resources_load(path, &r, &err), 0);
	assert_int_equal(r->n, 3);
	hb_resources_free(r);
	r = NULL;

	/* Errors name the file. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "RESOURCE = [ STATES = A ]\n", 26), 26);
	assert_int_equal(close(fd), 0);
	assert_int_equal(hb_resources_load(path, &r, &err), -HB_EINVAL);
	assert_null(r);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	assert_non_null(strstr(err.msg, "line 1, column 1: RESOURCE without NAME"));
	unlink(path);
}

/* The shipped conf/resources.conf holds the objects and shortcuts of
 * DESIGN section 3. */
static void test_shipped(void **state)
{
	const char *src = getenv("HB_SOURCE_DIR");
	const hb_resource *vm, *host, *image, *net, *ct;
	char path[4096];
	hb_resources *r = NULL;
	hb_error err = { 0 };
	static const char *const stages[] = {
		"CREATE_RUNTIME", "CREATE_CONTAINER", "START_CONTAINER", "PRESTART", "POSTSTART", "POSTSTOP",
	};

	(void)state;
	if (src == NULL || src[0] == '\0') {
		print_message("HB_SOURCE_DIR is not set; not checking conf/resources.conf\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/conf/resources.conf", src);
	if (access(path, R_OK) != 0) {
		print_message("%s does not exist yet\n", path);
		skip();
	}
	if (hb_resources_load(path, &r, &err) != 0)
		print_error("%s\n", err.msg);
	assert_non_null(r);

	vm = hb_resources_find(r, "VM");
	host = hb_resources_find(r, "HOST");
	image = hb_resources_find(r, "IMAGE");
	net = hb_resources_find(r, "NET");
	ct = hb_resources_find(r, "CONTAINER");
	assert_non_null(vm);
	assert_non_null(host);
	assert_non_null(image);
	assert_non_null(net);
	assert_non_null(ct);
	assert_string_equal(vm->root, "VM");
	assert_string_equal(net->root, "VNET");
	assert_string_equal(ct->root, "CONTAINER");
	assert_true(vm->nlcm > 0);
	assert_int_equal(host->nlcm, 0);
	assert_int_equal(image->nlcm, 0);
	assert_int_equal(net->nlcm, 0);
	assert_int_equal(ct->nlcm, 0);
	assert_true(hb_resource_has_state(host, "ERROR"));
	assert_true(hb_resource_has_lcm(vm, "BOOT_UNKNOWN"));

	assert_on(vm, "PROLOG", "ACTIVE", "PROLOG");
	assert_on(vm, "RUNNING", "ACTIVE", "RUNNING");
	assert_on(vm, "SHUTDOWN", "ACTIVE", "EPILOG");
	assert_on(vm, "STOP", "STOPPED", "LCM_INIT");
	assert_on(vm, "DONE", "DONE", "LCM_INIT");
	assert_on(vm, "UNKNOWN", "ACTIVE", "UNKNOWN");
	assert_null(hb_resource_on(vm, "CUSTOM"));

	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++)
		assert_true(hb_resource_has_state(ct, stages[i]));
	hb_resources_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
