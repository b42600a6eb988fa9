/* test_hookdef.c -- proves hook templates are checked by every rule of DESIGN section 4 and give exact, separator-closed triggers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "filter.h"
#include "hookdef.h"

/* A small resources.conf: VM with OpenNebula's shortcuts, HOST without
 * shortcuts or LCM states, and an operator's object with a shortcut but no
 * LCM states. */
static const char resources_text[] =
	"RESOURCE = [ NAME = VM,\n"
	"  STATES = \"INIT PENDING HOLD ACTIVE STOPPED DONE POWEROFF\",\n"
	"  LCM_STATES = \"LCM_INIT PROLOG BOOT RUNNING EPILOG UNKNOWN BOOT_UNKNOWN\",\n"
	"  ON = \"PROLOG:ACTIVE/PROLOG RUNNING:ACTIVE/RUNNING SHUTDOWN:ACTIVE/EPILOG\n"
	"        STOP:STOPPED/LCM_INIT DONE:DONE/LCM_INIT UNKNOWN:ACTIVE/UNKNOWN\" ]\n"
	"RESOURCE = [ NAME = HOST, STATES = \"INIT MONITORING_MONITORED MONITORED ERROR DISABLED OFFLINE\" ]\n"
	"RESOURCE = [ NAME = NET, ROOT = VNET, STATES = \"INIT READY LOCK_CREATE ERROR\" ]\n"
	"RESOURCE = [ NAME = DISK, STATES = \"OK ERROR\", ON = \"BROKEN:ERROR\" ]\n";

/* The OpenNebula documentation's API hook. */
static const char api_example[] =
	"NAME = hook-api\n"
	"TYPE = api\n"
	"COMMAND = \"log_new_user.rb\"\n"
	"ARGUMENTS = $API\n"
	"CALL = \"one.user.allocate\"\n"
	"ARGUMENTS_STDIN = yes\n";

/* The OpenNebula documentation's state hook. */
static const char state_example[] =
	"NAME = hook-vm\n"
	"TYPE = state\n"
	"COMMAND = vm-pending.rb\n"
	"ARGUMENTS = \"$TEMPLATE pending\"\n"
	"ON = CUSTOM\n"
	"RESOURCE = VM\n"
	"STATE = PENDING\n"
	"LCM_STATE = LCM_INIT\n";

static hb_resources *res;

static int setup(void **state)
{
	hb_error err = { 0 };

	(void)state;
	if (hb_resources_parse(resources_text, strlen(resources_text), &res, &err) != 0) {
		print_error("resources: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hb_resources_free(res);
	return 0;
}

static hb_template *parse(const char *text)
{
	hb_template *t = NULL;
	hb_error err = { 0 };
	int rc = hb_template_parse(text, strlen(text), &t, &err);

	if (rc != 0)
		print_error("template: %s\n", err.msg);
	assert_int_equal(rc, 0);
	return t;
}

/* Builds the definition of text, failing the test with the message when it
 * is refused. */
static hb_hookdef *ok(const char *text)
{
	hb_template *t = parse(text);
	hb_hookdef *d = NULL;
	hb_error err = { 0 };
	int rc = hb_hookdef_new(t, res, &d, &err);

	if (rc != 0)
		print_error("unexpected error: %s\nfor:\n%s", err.msg, text);
	assert_int_equal(rc, 0);
	assert_non_null(d);
	hb_template_free(t);
	return d;
}

/* Asserts that msg is exactly want, or holds want when want starts with '~'. */
static void assert_msg(const char *msg, const char *want)
{
	bool good = want[0] == '~' ? strstr(msg, want + 1) != NULL : strcmp(msg, want) == 0;

	if (!good)
		print_error("message '%s'\n   wanted '%s'\n", msg, want);
	assert_true(good);
}

/* Asserts that text is refused with -HB_EINVAL and the message want. */
static void refuse(const char *text, const char *want)
{
	hb_template *t = parse(text);
	hb_hookdef *d = (hb_hookdef *)&d;
	hb_error err = { 0 };
	int rc = hb_hookdef_new(t, res, &d, &err);

	if (rc != -HB_EINVAL)
		print_error("accepted or wrong code %d:\n%s", rc, text);
	assert_int_equal(rc, -HB_EINVAL);
	assert_int_equal(err.code, -HB_EINVAL);
	assert_ptr_equal(d, (hb_hookdef *)&d);
	assert_msg(err.msg, want);
	hb_template_free(t);
}

/* A minimal valid api hook with extra attributes appended. */
static char *api_hook(const char *extra)
{
	char *s = NULL;

	assert_true(asprintf(&s, "NAME = h\nTYPE = api\nCOMMAND = x.rb\nCALL = one.vm.allocate\n%s", extra) > 0);
	return s;
}

static void ok_api(const char *extra)
{
	char *s = api_hook(extra);

	hb_hookdef_free(ok(s));
	free(s);
}

static void refuse_api(const char *extra, const char *want)
{
	char *s = api_hook(extra);

	refuse(s, want);
	free(s);
}

/* A state hook on resource with lines appended. */
static char *state_hook(const char *resource, const char *extra)
{
	char *s = NULL;

	assert_true(asprintf(&s, "NAME = h\nTYPE = state\nCOMMAND = x.rb\nRESOURCE = %s\n%s", resource, extra) > 0);
	return s;
}

/* Asserts that a state hook on resource with extra lines has prefix. */
static void state_prefix(const char *resource, const char *extra, const char *prefix)
{
	char *s = state_hook(resource, extra);
	hb_hookdef *d = ok(s);

	assert_string_equal(hb_hookdef_prefix(d), prefix);
	hb_hookdef_free(d);
	free(s);
}

static void refuse_state(const char *resource, const char *extra, const char *want)
{
	char *s = state_hook(resource, extra);

	refuse(s, want);
	free(s);
}

static bool matches(const hb_hookdef *d, const char *key)
{
	return hb_hookdef_matches(d, key, strlen(key));
}

/* Whether the stored template holds attribute name (any kind). */
static bool has(const hb_hookdef *d, const char *name)
{
	return hb_template_find(d->tmpl, name) != NULL;
}

static void test_api_example(void **state)
{
	hb_hookdef *d = ok(api_example);
	char *text;

	(void)state;
	assert_string_equal(d->name, "hook-api");
	assert_int_equal(d->type, HB_HOOK_API);
	assert_string_equal(hb_hook_type_str(d->type), "api");
	assert_string_equal(d->command, "log_new_user.rb");
	assert_string_equal(d->arguments, "$API");
	assert_true(d->arguments_stdin);
	assert_false(d->remote);
	assert_int_equal(d->timeout, -1);
	assert_int_equal(d->log_retention, -1);
	assert_string_equal(d->call, "one.user.allocate");
	assert_null(d->resource);
	assert_null(d->state);
	assert_null(d->lcm_state);
	assert_string_equal(hb_hookdef_prefix(d), "EVENT API one.user.allocate ");
	assert_true(matches(d, "EVENT API one.user.allocate 1"));
	assert_true(matches(d, "EVENT API one.user.allocate 0"));
	assert_false(matches(d, "EVENT API one.user.allocate 2"));
	assert_false(matches(d, "EVENT API one.user.allocate 10"));
	assert_false(matches(d, "EVENT API one.user.allocate "));
	assert_false(matches(d, "EVENT API one.user.allocate"));
	assert_false(matches(d, "EVENT API one.user.allocate 1 "));
	assert_false(matches(d, "EVENT API one.user.allocat 1"));
	/* The length is what counts, not a NUL. */
	assert_true(hb_hookdef_matches(d, "EVENT API one.user.allocate 1xyz", 29));
	assert_false(hb_hookdef_matches(d, "EVENT API one.user.allocate 1xyz", 30));

	/* NAME and TYPE are taken out of the stored template, the rest is kept as written. */
	text = hb_hookdef_template_str(d);
	assert_non_null(text);
	assert_string_equal(text, "COMMAND=log_new_user.rb\nARGUMENTS=$API\nCALL=one.user.allocate\nARGUMENTS_STDIN=yes\n");
	free(text);
	hb_hookdef_free(d);
}

static void test_state_example(void **state)
{
	hb_hookdef *d = ok(state_example);
	char *text;

	(void)state;
	assert_string_equal(d->name, "hook-vm");
	assert_int_equal(d->type, HB_HOOK_STATE);
	assert_string_equal(hb_hook_type_str(d->type), "state");
	assert_string_equal(d->command, "vm-pending.rb");
	assert_string_equal(d->arguments, "$TEMPLATE pending");
	assert_false(d->arguments_stdin);
	assert_null(d->call);
	assert_string_equal(d->resource, "VM");
	assert_string_equal(d->state, "PENDING");
	assert_string_equal(d->lcm_state, "LCM_INIT");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/PENDING/LCM_INIT/");
	assert_true(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/0 "));
	assert_true(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/12345 "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/0"));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/ "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/1/2 "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/1 2 "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/1  "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/1\t "));
	assert_false(matches(d, "EVENT VM 0/PENDING/LCM_INIT "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT"));
	assert_false(matches(d, ""));

	/* ON is removed; STATE and LCM_STATE stay. */
	assert_false(has(d, "ON"));
	assert_false(has(d, "NAME"));
	assert_false(has(d, "TYPE"));
	text = hb_hookdef_template_str(d);
	assert_string_equal(text, "COMMAND=vm-pending.rb\nARGUMENTS=\"$TEMPLATE pending\"\n"
			    "RESOURCE=VM\nSTATE=PENDING\nLCM_STATE=LCM_INIT\n");
	free(text);
	hb_hookdef_free(d);
}

/* HOST has no LCM states and no shortcuts: ON = CUSTOM or no ON, STATE alone. */
static void test_host_hooks(void **state)
{
	hb_hookdef *d;

	(void)state;
	d = ok("NAME = host-error\nTYPE = state\nCOMMAND = ft/host_error.rb\nARGUMENTS = \"$TEMPLATE -m -p 5\"\n"
	       "ON = CUSTOM\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = no\n");
	assert_string_equal(d->resource, "HOST");
	assert_string_equal(d->state, "ERROR");
	assert_string_equal(d->lcm_state, "");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE HOST/ERROR//");
	assert_true(matches(d, "EVENT STATE HOST/ERROR//5 "));
	assert_false(matches(d, "EVENT STATE HOST/ERROR//5"));
	assert_false(matches(d, "EVENT STATE HOST/ERROR/X/5 "));
	assert_false(has(d, "ON"));
	assert_false(has(d, "LCM_STATE"));
	hb_hookdef_free(d);

	state_prefix("HOST", "STATE = ERROR\n", "EVENT STATE HOST/ERROR//");
	state_prefix("host", "STATE = DISABLED\nLCM_STATE =\n", "EVENT STATE HOST/DISABLED//");
	state_prefix("Net", "STATE = READY\nLCM_STATE = \"\"\n", "EVENT STATE NET/READY//");
	refuse_state("HOST", "STATE = ERROR\nLCM_STATE = RUNNING\n",
		     "LCM_STATE: HOST has no LCM states (leave LCM_STATE out) (line 6)");
	refuse_state("HOST", "ON = ERROR\n", "ON: 'ERROR' is not a shortcut of HOST (valid: CUSTOM) (line 5)");
	refuse_state("HOST", "STATE = error\n", "STATE: 'error' is not a state of HOST (line 5)");
}

static void test_on_shortcuts(void **state)
{
	hb_hookdef *d;
	char *text;

	(void)state;
	d = ok("NAME = running\nTYPE = State\nCOMMAND = /usr/bin/logger\nRESOURCE = vm\nON = running\n");
	assert_string_equal(d->resource, "VM");
	assert_string_equal(d->state, "ACTIVE");
	assert_string_equal(d->lcm_state, "RUNNING");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/ACTIVE/RUNNING/");
	text = hb_hookdef_template_str(d);
	assert_string_equal(text, "COMMAND=/usr/bin/logger\nRESOURCE=VM\nSTATE=ACTIVE\nLCM_STATE=RUNNING\n");
	free(text);
	hb_hookdef_free(d);

	state_prefix("VM", "ON = PROLOG\n", "EVENT STATE VM/ACTIVE/PROLOG/");
	state_prefix("VM", "ON = shutdown\n", "EVENT STATE VM/ACTIVE/EPILOG/");
	state_prefix("VM", "ON = STOP\n", "EVENT STATE VM/STOPPED/LCM_INIT/");
	state_prefix("VM", "ON = DONE\n", "EVENT STATE VM/DONE/LCM_INIT/");
	state_prefix("VM", "ON = Unknown\n", "EVENT STATE VM/ACTIVE/UNKNOWN/");
	/* STATE and LCM_STATE may repeat what the shortcut sets. */
	state_prefix("VM", "STATE = ACTIVE\nON = PROLOG\nLCM_STATE = PROLOG\n", "EVENT STATE VM/ACTIVE/PROLOG/");
	/* An empty ON means no shortcut, as a missing one. */
	state_prefix("VM", "ON =\nSTATE = HOLD\nLCM_STATE = LCM_INIT\n", "EVENT STATE VM/HOLD/LCM_INIT/");
	/* A shortcut of an object without LCM states sets no LCM_STATE. */
	d = ok("NAME = d\nTYPE = state\nCOMMAND = x\nRESOURCE = DISK\nON = broken\nLCM_STATE =\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE DISK/ERROR//");
	assert_string_equal(d->lcm_state, "");
	assert_false(has(d, "LCM_STATE"));
	assert_false(has(d, "ON"));
	assert_string_equal(hb_template_get(d->tmpl, "STATE"), "ERROR");
	hb_hookdef_free(d);

	refuse_state("VM", "ON = RUNNIN\n",
		     "ON: 'RUNNIN' is not a shortcut of VM (valid: CUSTOM PROLOG RUNNING SHUTDOWN STOP DONE UNKNOWN) (line 5)");
	refuse_state("VM", "ON = \"RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING\"\n",
		     "ON: 'RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING RUNNING ...' is not a shortcut of VM "
		     "(valid: CUSTOM PROLOG RUNNING SHUTDOWN STOP DONE UNKNOWN) (line 5)");
	refuse_state("VM", "ON = RUNNING\nSTATE = PENDING\n",
		     "STATE: 'PENDING' contradicts ON = RUNNING, which sets STATE = 'ACTIVE' (line 6)");
	refuse_state("VM", "LCM_STATE = BOOT\nON = RUNNING\n",
		     "LCM_STATE: 'BOOT' contradicts ON = RUNNING, which sets LCM_STATE = 'RUNNING' (line 5)");
	refuse_state("VM", "ON = RUNNING\nLCM_STATE =\n", "~LCM_STATE: '' contradicts ON = RUNNING");
	refuse_state("DISK", "ON = BROKEN\nLCM_STATE = X\n", "~LCM_STATE: 'X' contradicts ON = BROKEN, which sets LCM_STATE = ''");
}

/* Each prefix is closed by its separator, so no trigger matches a longer name. */
static void test_separators(void **state)
{
	hb_hookdef *update, *boot;

	(void)state;
	update = ok("NAME = u\nTYPE = api\nCOMMAND = u.sh\nCALL = one.vm.update\n");
	assert_string_equal(hb_hookdef_prefix(update), "EVENT API one.vm.update ");
	assert_true(matches(update, "EVENT API one.vm.update 1"));
	assert_false(matches(update, "EVENT API one.vm.updateconf 1"));
	assert_false(matches(update, "EVENT API one.vm.updateconf 0"));
	assert_false(matches(update, "EVENT API one.vm.updat 1"));
	assert_false(strncmp("EVENT API one.vm.updateconf 1", hb_hookdef_prefix(update),
			     strlen(hb_hookdef_prefix(update))) == 0);

	boot = ok("NAME = b\nTYPE = state\nCOMMAND = b.sh\nRESOURCE = VM\nSTATE = ACTIVE\nLCM_STATE = BOOT\n");
	assert_string_equal(hb_hookdef_prefix(boot), "EVENT STATE VM/ACTIVE/BOOT/");
	assert_true(matches(boot, "EVENT STATE VM/ACTIVE/BOOT/3 "));
	assert_false(matches(boot, "EVENT STATE VM/ACTIVE/BOOT_UNKNOWN/3 "));
	assert_false(strncmp("EVENT STATE VM/ACTIVE/BOOT_UNKNOWN/3 ", hb_hookdef_prefix(boot),
			     strlen(hb_hookdef_prefix(boot))) == 0);
	hb_hookdef_free(update);
	hb_hookdef_free(boot);
}

static void test_name(void **state)
{
	char name[3 * HB_HOOK_NAME_MAX + 8], text[512];
	hb_error err = { 0 };
	const char *bad = "&|:\\\";/'#{}$<>";

	(void)state;
	refuse("TYPE = api\nCOMMAND = x\nCALL = c\n", "NAME is required");
	refuse("NAME =\nTYPE = api\nCOMMAND = x\nCALL = c\n", "NAME cannot be empty (line 1)");
	ok_api("");
	hb_hookdef_free(ok("NAME = \"with blanks, commas = and [brackets]\"\nTYPE = api\nCOMMAND = x\nCALL = c\n"));

	memset(name, 'n', HB_HOOK_NAME_MAX);
	name[HB_HOOK_NAME_MAX] = '\0';
	assert_int_equal(hb_hookdef_check_name(name, &err), 0);
	snprintf(text, sizeof(text), "NAME = %s\nTYPE = api\nCOMMAND = x\nCALL = c\n", name);
	hb_hookdef_free(ok(text));
	strcat(name, "n");
	snprintf(text, sizeof(text), "NAME = %s\nTYPE = api\nCOMMAND = x\nCALL = c\n", name);
	refuse(text, "NAME is longer than 128 characters (line 1)");
	assert_int_equal(hb_hookdef_check_name(name, &err), -HB_EINVAL);
	assert_string_equal(err.msg, "NAME is longer than 128 characters");
	/* Characters, not bytes: 128 two-byte characters fit. */
	name[0] = '\0';
	for (int i = 0; i < HB_HOOK_NAME_MAX; i++)
		strcat(name, "\xc3\xa9");
	assert_int_equal(hb_hookdef_check_name(name, &err), 0);
	strcat(name, "\xc3\xa9");
	assert_int_equal(hb_hookdef_check_name(name, &err), -HB_EINVAL);

	for (const char *c = bad; *c != '\0'; c++) {
		char want[128];

		snprintf(name, sizeof(name), "a%cb", *c);
		assert_int_equal(hb_hookdef_check_name(name, &err), -HB_EINVAL);
		snprintf(want, sizeof(want), "NAME holds '%c'; a name may not contain any of &|:\\\";/'#{}$<>", *c);
		assert_string_equal(err.msg, want);
	}
	refuse("NAME = \"a\\\"b\"\nTYPE = api\nCOMMAND = x\nCALL = c\n", "~NAME holds '\"'");
	refuse("NAME = \"two\nlines\"\nTYPE = api\nCOMMAND = x\nCALL = c\n", "NAME holds a control character (line 1)");
	refuse("NAME = \"tab\there\"\nTYPE = api\nCOMMAND = x\nCALL = c\n", "NAME holds a control character (line 1)");
	assert_int_equal(hb_hookdef_check_name("del\x7f", &err), -HB_EINVAL);
	assert_int_equal(hb_hookdef_check_name("", &err), -HB_EINVAL);
	assert_int_equal(hb_hookdef_check_name(NULL, &err), -HB_EINVAL);
	assert_int_equal(hb_hookdef_check_name("hook-1.ok_name", &err), 0);
}

static void test_type(void **state)
{
	hb_hookdef *d;

	(void)state;
	refuse("NAME = h\nCOMMAND = x\nCALL = c\n", "TYPE is required (api or state)");
	refuse("NAME = h\nTYPE = hook\nCOMMAND = x\nCALL = c\n", "TYPE: 'hook' is not api or state (line 2)");
	refuse("NAME = h\nTYPE =\nCOMMAND = x\nCALL = c\n", "TYPE: '' is not api or state (line 2)");
	d = ok("NAME = h\nTYPE = API\nCOMMAND = x\nCALL = c\n");
	assert_int_equal(d->type, HB_HOOK_API);
	hb_hookdef_free(d);
	d = ok("NAME = h\ntype = sTaTe\nCOMMAND = x\nRESOURCE = HOST\nSTATE = ERROR\n");
	assert_int_equal(d->type, HB_HOOK_STATE);
	hb_hookdef_free(d);
}

static void test_command(void **state)
{
	(void)state;
	refuse("NAME = h\nTYPE = api\nCALL = c\n", "COMMAND is required");
	refuse_api("COMMAND = \"\"\n", "~COMMAND is given more than once");
	refuse("NAME = h\nTYPE = api\nCALL = c\nCOMMAND =\n", "COMMAND cannot be empty (line 4)");
	refuse("NAME = h\nTYPE = api\nCALL = c\nCOMMAND = \"a\nb\"\n", "COMMAND: holds a control character (line 4)");
	for (const char *const *c = (const char *const[]){ "..", "../x.rb", "a/../b", "a/..", "sub/../../etc/x",
							  "a//../b", "./..", NULL };
	     *c != NULL; c++) {
		char text[128];

		snprintf(text, sizeof(text), "NAME = h\nTYPE = api\nCALL = c\nCOMMAND = %s\n", *c);
		refuse(text, "COMMAND: a relative path may not have a '..' component (it is under the hook directory) (line 4)");
	}
	for (const char *const *c = (const char *const[]){ "x.rb", "ft/host_error.rb", "./x.rb", "a..b/c", "..a/b.",
							  "a/...", "/usr/bin/logger", "/opt/../bin/x", NULL };
	     *c != NULL; c++) {
		char text[128];
		hb_hookdef *d;

		snprintf(text, sizeof(text), "NAME = h\nTYPE = api\nCALL = c\nCOMMAND = %s\n", *c);
		d = ok(text);
		assert_string_equal(d->command, *c);
		hb_hookdef_free(d);
	}
}

static void test_options(void **state)
{
	char *s = api_hook("ARGUMENTS_STDIN = True\nREMOTE = NO\nTIMEOUT = 30\nLOG_RETENTION = 0\n");
	hb_hookdef *d = ok(s);

	(void)state;
	free(s);
	assert_null(d->arguments);
	assert_true(d->arguments_stdin);
	assert_false(d->remote);
	assert_int_equal(d->timeout, 30);
	assert_int_equal(d->log_retention, 0);
	hb_hookdef_free(d);
	s = api_hook("ARGUMENTS_STDIN = no\nREMOTE = False\nTIMEOUT = 0\nLOG_RETENTION = 2147483647\nARGUMENTS =\n");
	d = ok(s);
	free(s);
	assert_string_equal(d->arguments, "");
	assert_false(d->arguments_stdin);
	assert_false(d->remote);
	assert_int_equal(d->timeout, 0);
	assert_int_equal(d->log_retention, 2147483647L);
	hb_hookdef_free(d);

	refuse_api("ARGUMENTS_STDIN = maybe\n", "ARGUMENTS_STDIN: 'maybe' is not yes or no (line 5)");
	refuse_api("ARGUMENTS_STDIN =\n", "ARGUMENTS_STDIN: '' is not yes or no (line 5)");
	refuse_api("REMOTE = 1\n", "REMOTE: '1' is not yes or no (line 5)");
	refuse_api("REMOTE = yes\n", "REMOTE = yes is for state hooks: API events carry no REMOTE_HOST (line 5)");
	refuse_api("TIMEOUT = -1\n", "TIMEOUT: '-1' is not a whole number of seconds >= 0 (line 5)");
	refuse_api("TIMEOUT = 1.5\n", "TIMEOUT: '1.5' is not a whole number of seconds >= 0 (line 5)");
	refuse_api("TIMEOUT = \" 3\"\n", "TIMEOUT: ' 3' is not a whole number of seconds >= 0 (line 5)");
	refuse_api("TIMEOUT =\n", "TIMEOUT: '' is not a whole number of seconds >= 0 (line 5)");
	refuse_api("TIMEOUT = 10s\n", "~TIMEOUT: '10s' is not a whole number");
	refuse_api("TIMEOUT = 2147483648\n", "TIMEOUT: '2147483648' is larger than 2147483647 (line 5)");
	refuse_api("LOG_RETENTION = 99999999999999999999999\n", "~LOG_RETENTION: '99999999999999999999999' is larger than");
	refuse_api("LOG_RETENTION = +5\n", "LOG_RETENTION: '+5' is not a whole number of records >= 0 (line 5)");
	refuse_api("\nARGUMENTS = \"a \\\"b\"\n", "ARGUMENTS: unterminated quote opened at character 3 (line 6)");
	ok_api("ARGUMENTS = \"a \\\"b c\\\" $API\"\n");
}

static void test_api_rules(void **state)
{
	(void)state;
	refuse("NAME = h\nTYPE = api\nCOMMAND = x\n", "CALL is required for an api hook");
	refuse("NAME = h\nTYPE = api\nCOMMAND = x\nCALL =\n", "CALL cannot be empty (line 4)");
	refuse("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = \"one.vm allocate\"\n",
	       "CALL: 'one.vm allocate' is not an API call (no blanks, '/' or control characters) (line 4)");
	refuse("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = one/vm\n", "~CALL: 'one/vm' is not an API call");
	refuse("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = \"one.vm\tx\"\n", "~CALL: 'one.vm?x' is not an API call");
	refuse_api("RESOURCE = VM\n", "RESOURCE is not allowed in an api hook (line 5)");
	refuse_api("STATE = ACTIVE\n", "STATE is not allowed in an api hook (line 5)");
	refuse_api("LCM_STATE =\n", "LCM_STATE is not allowed in an api hook (line 5)");
	refuse_api("ON = CUSTOM\n", "ON is not allowed in an api hook (line 5)");
}

static void test_state_rules(void **state)
{
	(void)state;
	refuse("NAME = h\nTYPE = state\nCOMMAND = x\nSTATE = ACTIVE\n", "RESOURCE is required for a state hook");
	refuse_state("VMS", "STATE = ACTIVE\n", "RESOURCE: 'VMS' is not a known object (known: VM HOST NET DISK) (line 4)");
	refuse_state("\"\"", "STATE = ACTIVE\n", "RESOURCE: '' is not a known object (known: VM HOST NET DISK) (line 4)");
	refuse_state("VM", "LCM_STATE = RUNNING\n",
		     "STATE is required for a state hook without an ON shortcut (RESOURCE = VM)");
	refuse_state("VM", "ON = custom\nLCM_STATE = RUNNING\n",
		     "STATE is required for a state hook without an ON shortcut (RESOURCE = VM)");
	refuse("NAME = h\nTYPE = state\nSTATE = PENDIN\nCOMMAND = x\nRESOURCE = VM\nLCM_STATE = LCM_INIT\n",
	       "STATE: 'PENDIN' is not a state of VM (line 3)");
	refuse_state("VM", "STATE = pending\nLCM_STATE = LCM_INIT\n", "STATE: 'pending' is not a state of VM (line 5)");
	refuse_state("VM", "STATE = ZZ*\nLCM_STATE = *\n", "STATE: 'ZZ*' matches no state of VM (line 5)");
	refuse_state("VM", "STATE = ACTIVE\nLCM_STATE = X*\n", "LCM_STATE: 'X*' matches no LCM state of VM (line 6)");
	refuse_state("HOST", "STATE = *\nLCM_STATE = *\n", "LCM_STATE: HOST has no LCM states (leave LCM_STATE out) (line 6)");
	refuse_state("VM", "STATE = ACTIVE\n", "LCM_STATE is required for a VM hook without an ON shortcut");
	refuse_state("VM", "STATE = ACTIVE\nLCM_STATE =\n", "LCM_STATE is required for a VM hook without an ON shortcut (line 6)");
	refuse_state("VM", "STATE = ACTIVE\nLCM_STATE = BOOTING\n", "LCM_STATE: 'BOOTING' is not an LCM state of VM (line 6)");
	refuse_state("VM", "STATE = ACTIVE\nLCM_STATE = RUNNING\nCALL = one.vm.deploy\n",
		     "CALL is not allowed in a state hook (line 7)");
	refuse_state("VM", "STATE = ACTIVE\nLCM_STATE = PENDING\n", "LCM_STATE: 'PENDING' is not an LCM state of VM (line 6)");

	/* Long or odd values are cut and made printable in messages. */
	{
		char x[129], v[101], want[256];

		memset(x, 'X', 128);
		x[128] = '\0';
		memset(v, 'v', 100);
		v[100] = '\0';
		snprintf(want, sizeof(want), "STATE: '%.64s...' is not a state of VM (line 5)", x);
		refuse_state("VM", "STATE = XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
			     "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\nLCM_STATE = RUNNING\n",
			     want);
		snprintf(want, sizeof(want), "RESOURCE: '%.64s...' is not a known object (known: VM HOST NET DISK) (line 4)", v);
		refuse_state(v, "STATE = A\n", want);
	}
	refuse_state("VM", "STATE = \"A\nB\"\nLCM_STATE = RUNNING\n", "STATE: 'A?B' is not a state of VM (line 5)");
}

/* Without resources an api hook is fine and a state hook names no object. */
static void test_no_resources(void **state)
{
	hb_template *t = parse(api_example);
	hb_hookdef *d = NULL;
	hb_error err = { 0 };

	(void)state;
	assert_int_equal(hb_hookdef_new(t, NULL, &d, &err), 0);
	hb_hookdef_free(d);
	hb_template_free(t);
	t = parse(state_example);
	assert_int_equal(hb_hookdef_new(t, NULL, &d, &err), -HB_EINVAL);
	assert_string_equal(err.msg, "RESOURCE: 'VM' is not a known object (known: none) (line 6)");
	hb_template_free(t);
}

/* Every attribute hem reads is single and given once; the rest is kept. */
static void test_structure(void **state)
{
	static const char *const known[] = { "NAME", "TYPE", "COMMAND", "ARGUMENTS", "ARGUMENTS_STDIN", "TIMEOUT",
					     "REMOTE", "LOG_RETENTION", "CALL", "RESOURCE", "STATE", "LCM_STATE", "ON",
					     "FILTER", "RETRIES", "RETRY_DELAY", "RETRY_ON", "CONCURRENCY",
					     "CONCURRENCY_POLICY", "BLOCKING" };
	hb_hookdef *d;
	char *text;

	(void)state;
	refuse_api("BLOCKING = 1\n", "BLOCKING: '1' is not yes or no (line 5)");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char *s, want[128];

		/* Given twice, even with the same value. */
		assert_true(asprintf(&s, "%s = v\n%s\n%s = v\n", known[i], state_example, known[i]) > 0);
		snprintf(want, sizeof(want), "~%s is given more than once (lines 1 and ", known[i]);
		refuse(s, want);
		free(s);
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		char *s, want[128];

		assert_true(asprintf(&s, "\n%s = [ X = 1 ]\n%s", known[i], state_example) > 0);
		snprintf(want, sizeof(want), "%s must be a single value, not a vector (line 2)", known[i]);
		refuse(s, want);
		free(s);
	}
	/* The first problem in template order is the one reported. */
	refuse("NAME = h\nCOMMAND = a\nBLOCKING = yes\nBLOCKING = no\nCOMMAND = b\n",
	       "BLOCKING is given more than once (lines 3 and 4)");

	/* Attributes hem does not know are kept as written, vectors and repeats too. */
	d = ok("NAME = h\nDESCRIPTION = \"Logs, new users\"\nTYPE = api\nCOMMAND = x\nCALL = one.user.allocate\n"
	       "MY = [ A = 1, B = \"two words\" ]\nTAG = a\ntag = b\n");
	text = hb_hookdef_template_str(d);
	assert_string_equal(text, "DESCRIPTION=\"Logs, new users\"\nCOMMAND=x\nCALL=one.user.allocate\n"
			    "MY=[\n  A=1,\n  B=\"two words\" ]\nTAG=a\nTAG=b\n");
	free(text);
	hb_hookdef_free(d);
}

/* What hem stores reads back, with NAME and TYPE put back, to the same hook. */
static void test_stored_template_reloads(void **state)
{
	const char *const examples[] = { api_example, state_example,
					 "NAME = r\nTYPE = state\nCOMMAND = x\nRESOURCE = vm\nON = RUNNING\nX = \"a\\\"b\"\n" };

	(void)state;
	for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		hb_hookdef *d = ok(examples[i]), *again = NULL;
		char *text = hb_hookdef_template_str(d), *text2;
		hb_template *t = parse(text);
		hb_error err = { 0 };

		assert_int_equal(hb_template_add(t, "NAME", d->name, &err), 0);
		assert_int_equal(hb_template_add(t, "TYPE", hb_hook_type_str(d->type), &err), 0);
		assert_int_equal(hb_hookdef_new(t, res, &again, &err), 0);
		assert_string_equal(hb_hookdef_prefix(again), hb_hookdef_prefix(d));
		assert_string_equal(again->name, d->name);
		text2 = hb_hookdef_template_str(again);
		assert_string_equal(text2, text);
		free(text);
		free(text2);
		hb_template_free(t);
		hb_hookdef_free(d);
		hb_hookdef_free(again);
	}
}

/* Runs update of old with changes text, failing the test on an error. */
static hb_hookdef *update_ok(const hb_hookdef *old, const char *changes, bool append)
{
	hb_template *t = parse(changes);
	hb_hookdef *d = NULL;
	hb_error err = { 0 };
	int rc = hb_hookdef_update(old, t, append, res, &d, &err);

	if (rc != 0)
		print_error("unexpected update error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	hb_template_free(t);
	return d;
}

static void update_refused(const hb_hookdef *old, const char *changes, bool append, const char *want)
{
	hb_template *t = parse(changes);
	hb_hookdef *d = (hb_hookdef *)&d;
	hb_error err = { 0 };

	assert_int_equal(hb_hookdef_update(old, t, append, res, &d, &err), -HB_EINVAL);
	assert_ptr_equal(d, (hb_hookdef *)&d);
	assert_msg(err.msg, want);
	hb_template_free(t);
}

static void test_update_replace(void **state)
{
	hb_hookdef *old = ok(state_example), *d;
	char *text;

	(void)state;
	d = update_ok(old, "COMMAND = new.rb\nRESOURCE = VM\nON = RUNNING\nTIMEOUT = 5\n", false);
	assert_string_equal(d->name, "hook-vm");
	assert_int_equal(d->type, HB_HOOK_STATE);
	assert_string_equal(d->command, "new.rb");
	assert_null(d->arguments);
	assert_int_equal(d->timeout, 5);
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/ACTIVE/RUNNING/");
	text = hb_hookdef_template_str(d);
	assert_string_equal(text, "COMMAND=new.rb\nRESOURCE=VM\nTIMEOUT=5\nSTATE=ACTIVE\nLCM_STATE=RUNNING\n");
	free(text);
	hb_hookdef_free(d);

	/* NAME and TYPE may be repeated as they are (TYPE in any case). */
	d = update_ok(old, "NAME = hook-vm\nTYPE = STATE\nCOMMAND = x\nRESOURCE = HOST\nSTATE = ERROR\n", false);
	assert_string_equal(d->name, "hook-vm");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE HOST/ERROR//");
	assert_false(has(d, "NAME"));
	assert_false(has(d, "TYPE"));
	hb_hookdef_free(d);

	update_refused(old, "COMMAND = x\nNAME = other\nRESOURCE = HOST\nSTATE = ERROR\n", false,
		       "NAME cannot be changed by update; use rename (line 2)");
	update_refused(old, "NAME = Hook-vm\nCOMMAND = x\nRESOURCE = HOST\nSTATE = ERROR\n", false,
		       "NAME cannot be changed by update; use rename (line 1)");
	update_refused(old, "TYPE = api\nCOMMAND = x\nCALL = c\n", false,
		       "TYPE cannot be changed by update; delete the hook and create it again (line 1)");
	update_refused(old, "TYPE = [ A = state ]\nCOMMAND = x\n", false, "~TYPE cannot be changed by update");
	/* The whole result is checked: what replace leaves out is missing. */
	update_refused(old, "COMMAND = x\n", false, "RESOURCE is required for a state hook");
	update_refused(old, "RESOURCE = VM\nSTATE = ACTIVE\nLCM_STATE = RUNNING\n", false, "COMMAND is required");
	update_refused(old, "COMMAND = x\nRESOURCE = VM\nSTATE = PENDIN\nLCM_STATE = LCM_INIT\n", false,
		       "STATE: 'PENDIN' is not a state of VM (line 3)");
	update_refused(old, "COMMAND = x\nRESOURCE = VM\nON = RUNNING\nRETRIES = many\n", false,
		       "RETRIES: 'many' is not a whole number of retries >= 0 (line 4)");
	update_refused(old, "COMMAND = x\nRESOURCE = VM\nON = RUNNING\nFILTER = \"//A[\"\n", false,
		       "FILTER: Invalid expression at character 4 of '//A[' (line 4)");

	/* old is untouched by all of this. */
	assert_string_equal(old->command, "vm-pending.rb");
	assert_string_equal(hb_hookdef_prefix(old), "EVENT STATE VM/PENDING/LCM_INIT/");
	hb_hookdef_free(old);
}

static void test_update_append(void **state)
{
	hb_hookdef *old = ok("NAME = hook-vm\nTYPE = state\nCOMMAND = vm-pending.rb\nARGUMENTS = \"$TEMPLATE pending\"\n"
			     "RESOURCE = VM\nSTATE = PENDING\nLCM_STATE = LCM_INIT\nTAG = a\nTAG = b\nNOTE = keep\n");
	hb_hookdef *d, *d2;
	char *text;

	(void)state;
	d = update_ok(old, "COMMAND = other.rb\nTIMEOUT = 10\nTAG = c\n", true);
	assert_string_equal(d->command, "other.rb");
	assert_string_equal(d->arguments, "$TEMPLATE pending");
	assert_int_equal(d->timeout, 10);
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/PENDING/LCM_INIT/");
	text = hb_hookdef_template_str(d);
	assert_string_equal(text, "ARGUMENTS=\"$TEMPLATE pending\"\nRESOURCE=VM\nSTATE=PENDING\nLCM_STATE=LCM_INIT\n"
			    "NOTE=keep\nCOMMAND=other.rb\nTIMEOUT=10\nTAG=c\n");
	free(text);

	/* A new ON replaces the STATE and LCM_STATE the old trigger left. */
	d2 = update_ok(d, "ON = running\n", true);
	assert_string_equal(hb_hookdef_prefix(d2), "EVENT STATE VM/ACTIVE/RUNNING/");
	assert_string_equal(d2->command, "other.rb");
	assert_false(has(d2, "ON"));
	hb_hookdef_free(d2);
	d2 = update_ok(d, "LCM_STATE = BOOT\nSTATE = ACTIVE\n", true);
	assert_string_equal(hb_hookdef_prefix(d2), "EVENT STATE VM/ACTIVE/BOOT/");
	hb_hookdef_free(d2);
	d2 = update_ok(d, "RESOURCE = host\nSTATE = ERROR\nLCM_STATE =\nNAME = hook-vm\n", true);
	assert_string_equal(hb_hookdef_prefix(d2), "EVENT STATE HOST/ERROR//");
	hb_hookdef_free(d2);

	/* Errors name the lines of the changes; kept attributes carry none. */
	update_refused(d, "\nSTATE = PENDIN\n", true, "STATE: 'PENDIN' is not a state of VM (line 2)");
	update_refused(d, "RESOURCE = HOST\n", true, "STATE: 'PENDING' is not a state of HOST");
	update_refused(d, "NAME = renamed\n", true, "NAME cannot be changed by update; use rename (line 1)");
	update_refused(d, "TYPE = api\nCALL = c\n", true,
		       "TYPE cannot be changed by update; delete the hook and create it again (line 1)");
	update_refused(d, "CALL = c\n", true, "CALL is not allowed in a state hook (line 1)");
	update_refused(d, "FILTER = \"count(\"\n", true, "~FILTER: ");
	d2 = update_ok(d, "FILTER = \"/HOOK_MESSAGE/STATE = 'PENDING'\"\n", true);
	assert_string_equal(d2->filter, "/HOOK_MESSAGE/STATE = 'PENDING'");
	assert_non_null(d2->filter_comp);
	hb_hookdef_free(d2);
	update_refused(d, "TIMEOUT = 1\nTIMEOUT = 2\n", true, "TIMEOUT is given more than once (lines 1 and 2)");
	hb_hookdef_free(d);

	/* Appending to an api hook. */
	d = ok(api_example);
	d2 = update_ok(d, "CALL = one.user.delete\nREMOTE = no\n", true);
	assert_string_equal(hb_hookdef_prefix(d2), "EVENT API one.user.delete ");
	assert_false(d2->remote);
	assert_true(d2->arguments_stdin);
	assert_string_equal(d2->arguments, "$API");
	hb_hookdef_free(d2);
	update_refused(d, "ON = RUNNING\n", true, "ON is not allowed in an api hook (line 1)");
	hb_hookdef_free(d);
	hb_hookdef_free(old);
}

static void test_rename(void **state)
{
	hb_hookdef *old = ok(state_example), *d = NULL;
	hb_error err = { 0 };
	char *a, *b;

	(void)state;
	assert_int_equal(hb_hookdef_rename(old, "hook-vm-2", &d, &err), 0);
	assert_string_equal(d->name, "hook-vm-2");
	assert_string_equal(old->name, "hook-vm");
	assert_string_equal(hb_hookdef_prefix(d), hb_hookdef_prefix(old));
	assert_string_equal(d->command, old->command);
	assert_string_equal(d->arguments, old->arguments);
	assert_string_equal(d->lcm_state, "LCM_INIT");
	assert_ptr_not_equal(d->tmpl, old->tmpl);
	a = hb_hookdef_template_str(old);
	b = hb_hookdef_template_str(d);
	assert_string_equal(a, b);
	free(a);
	free(b);
	hb_hookdef_free(d);

	d = (hb_hookdef *)&d;
	assert_int_equal(hb_hookdef_rename(old, "a/b", &d, &err), -HB_EINVAL);
	assert_string_equal(err.msg, "NAME holds '/'; a name may not contain any of &|:\\\";/'#{}$<>");
	assert_int_equal(hb_hookdef_rename(old, "", &d, &err), -HB_EINVAL);
	assert_string_equal(err.msg, "NAME cannot be empty");
	assert_ptr_equal(d, (hb_hookdef *)&d);

	/* An api hook, whose arguments are not set. */
	hb_hookdef_free(old);
	old = ok("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = c\n");
	assert_int_equal(hb_hookdef_rename(old, "h2", &d, &err), 0);
	assert_null(d->arguments);
	assert_null(d->state);
	assert_string_equal(d->call, "c");
	assert_true(matches(d, "EVENT API c 1"));
	hb_hookdef_free(d);
	hb_hookdef_free(old);
	hb_hookdef_free(NULL);

	/* A renamed hook keeps a working FILTER of its own. */
	old = ok("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = c\nFILTER = \"1 = 1\"\n");
	assert_int_equal(hb_hookdef_rename(old, "h2", &d, &err), 0);
	assert_non_null(d->filter_comp);
	assert_ptr_not_equal(d->filter_comp, old->filter_comp);
	hb_hookdef_free(old);
	hb_hookdef_free(d);
}

/* The hookbus extensions: FILTER, retries, per-hook concurrency, REMOTE. */
static void test_extensions(void **state)
{
	hb_hookdef *d;
	char *s;

	(void)state;
	d = ok(api_example);
	assert_null(d->filter);
	assert_null(d->filter_comp);
	assert_int_equal(d->retries, 0);
	assert_int_equal(d->retry_delay, HB_RETRY_DELAY_DEFAULT);
	assert_int_equal(d->retry_on, HB_RETRY_ON_BOTH);
	assert_int_equal(d->concurrency, -1);
	assert_false(d->concurrency_skip);
	assert_false(d->blocking);
	hb_hookdef_free(d);

	s = api_hook("FILTER = \"/HOOK_MESSAGE/CALL_INFO/RESULT = 1\"\nRETRIES = 3\nRETRY_DELAY = 2\n"
		     "RETRY_ON = Timeout\nCONCURRENCY = 2\nCONCURRENCY_POLICY = SKIP\nBLOCKING = Yes\n");
	d = ok(s);
	free(s);
	assert_string_equal(d->filter, "/HOOK_MESSAGE/CALL_INFO/RESULT = 1");
	assert_non_null(d->filter_comp);
	assert_int_equal(d->retries, 3);
	assert_int_equal(d->retry_delay, 2);
	assert_int_equal(d->retry_on, HB_RETRY_ON_TIMEOUT);
	assert_int_equal(d->concurrency, 2);
	assert_true(d->concurrency_skip);
	assert_true(d->blocking);
	hb_hookdef_free(d);
	s = api_hook("FILTER =\nRETRY_ON = failure\nCONCURRENCY_POLICY = delay\nBLOCKING = no\n");
	d = ok(s);
	free(s);
	assert_false(d->blocking);
	assert_null(d->filter);
	assert_int_equal(d->retry_on, HB_RETRY_ON_FAILURE);
	assert_false(d->concurrency_skip);
	hb_hookdef_free(d);

	refuse_api("FILTER = \"//A[\"\n", "FILTER: Invalid expression at character 4 of '//A[' (line 5)");
	refuse_api("FILTER = \"1 +\"\n", "~FILTER: Invalid expression");
	refuse_api("FILTER = \"nosuch(1)\"\n", "FILTER: Unregistered function in 'nosuch(1)' (line 5)");
	refuse_api("RETRIES = -1\n", "RETRIES: '-1' is not a whole number of retries >= 0 (line 5)");
	refuse_api("RETRIES = 101\n", "RETRIES: at most 100 (line 5)");
	refuse_api("RETRY_DELAY = 3601\n", "RETRY_DELAY: at most 3600 seconds (line 5)");
	refuse_api("RETRY_ON = always\n", "RETRY_ON: 'always' is not failure, timeout or both (line 5)");
	refuse_api("CONCURRENCY = 0\n", "CONCURRENCY: '0' is not between 1 and 4096 (line 5)");
	refuse_api("CONCURRENCY = 4097\n", "CONCURRENCY: '4097' is not between 1 and 4096 (line 5)");
	refuse_api("CONCURRENCY_POLICY = drop\n", "CONCURRENCY_POLICY: 'drop' is not delay or skip (line 5)");

	/* A compiled FILTER evaluated on HOOK_MESSAGE documents. */
	{
		static const char msg[] = "<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.vm.allocate</CALL>"
					  "<CALL_INFO><RESULT>1</RESULT></CALL_INFO></HOOK_MESSAGE>";
		xmlDocPtr doc = xmlReadMemory(msg, (int)strlen(msg), NULL, NULL, XML_PARSE_NONET);
		hb_filter *f = NULL;
		hb_error err = { 0 };

		assert_non_null(doc);
		assert_int_equal(hb_filter_compile("/HOOK_MESSAGE/CALL_INFO/RESULT = 1", &f, &err), 0);
		assert_int_equal(hb_filter_eval(f, doc, &err), 1);
		hb_filter_free(f);
		assert_int_equal(hb_filter_compile("starts-with(/HOOK_MESSAGE/CALL, 'one.image.')", &f, &err), 0);
		assert_int_equal(hb_filter_eval(f, doc, &err), 0);
		hb_filter_free(f);
		assert_int_equal(hb_filter_compile("//RESULT", &f, &err), 0);
		assert_int_equal(hb_filter_eval(f, doc, &err), 1);
		hb_filter_free(f);
		f = (hb_filter *)&f;
		assert_int_equal(hb_filter_compile("//A[", &f, &err), -HB_EINVAL);
		assert_ptr_equal(f, (hb_filter *)&f);
		hb_filter_free(NULL);
		xmlFreeDoc(doc);
	}

	/* REMOTE is for state hooks. */
	d = ok("NAME = h\nTYPE = state\nCOMMAND = x\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = yes\n");
	assert_true(d->remote);
	hb_hookdef_free(d);
}

/* '*' matches a run of bytes within one segment, never across '/' or ' '. */
static void test_glob(void **state)
{
	(void)state;
	assert_true(hb_hookdef_glob("*", "", 0));
	assert_true(hb_hookdef_glob("*", "ACTIVE", 6));
	assert_true(hb_hookdef_glob("one.vm.*", "one.vm.allocate", 15));
	assert_true(hb_hookdef_glob("one.vm.*", "one.vm.", 7));
	assert_false(hb_hookdef_glob("one.vm.*", "one.image.allocate", 18));
	assert_false(hb_hookdef_glob("one.vm.*", "one.vmx", 7));
	assert_true(hb_hookdef_glob("one.*.allocate", "one.vm.allocate", 15));
	assert_false(hb_hookdef_glob("one.*.allocate", "one.vm.allocated", 16));
	assert_true(hb_hookdef_glob("*_*", "BOOT_UNKNOWN", 12));
	assert_true(hb_hookdef_glob("B*T*N", "BOOT_UNKNOWN", 12));
	assert_false(hb_hookdef_glob("B*T*X", "BOOT_UNKNOWN", 12));
	assert_false(hb_hookdef_glob("*", "a/b", 3));
	assert_false(hb_hookdef_glob("*", "a b", 3));
	assert_false(hb_hookdef_glob("a*", "a/", 2));
	assert_true(hb_hookdef_glob("a/*", "a/b", 3));
	assert_true(hb_hookdef_glob("ACTIVE", "ACTIVE", 6));
	assert_false(hb_hookdef_glob("ACTIVE", "ACTIVEX", 7));
	assert_false(hb_hookdef_glob("ACTIVE", "ACTIVE", 5));
	assert_true(hb_hookdef_glob("**", "xy", 2));
	assert_true(hb_hookdef_glob("", "", 0));
	assert_false(hb_hookdef_glob("", "x", 1));
}

/* Wildcard triggers: subscribed as the shortest covering prefix, matched per segment. */
static void test_wildcard_triggers(void **state)
{
	hb_hookdef *d;

	(void)state;
	d = ok("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = one.vm.*\n");
	assert_true(d->wildcard);
	assert_string_equal(hb_hookdef_prefix(d), "EVENT API one.vm.");
	assert_true(matches(d, "EVENT API one.vm.allocate 1"));
	assert_true(matches(d, "EVENT API one.vm.update 0"));
	assert_false(matches(d, "EVENT API one.image.allocate 1"));
	assert_false(matches(d, "EVENT API one.vm.allocate 2"));
	assert_false(matches(d, "EVENT API one.vm.allocate"));
	assert_false(matches(d, "EVENT API one.vm.a b 1"));
	hb_hookdef_free(d);

	d = ok("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = *\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT API ");
	assert_true(matches(d, "EVENT API one.user.delete 1"));
	assert_false(matches(d, "EVENT API  1"));
	hb_hookdef_free(d);

	/* An exact trigger stays exact. */
	d = ok("NAME = h\nTYPE = api\nCOMMAND = x\nCALL = one.vm.update\n");
	assert_false(d->wildcard);
	assert_false(matches(d, "EVENT API one.vm.updateconf 1"));
	assert_true(matches(d, "EVENT API one.vm.update 1"));
	hb_hookdef_free(d);

	d = ok("NAME = h\nTYPE = state\nCOMMAND = x\nRESOURCE = VM\nSTATE = *\nLCM_STATE = *\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/");
	assert_true(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/3 "));
	assert_true(matches(d, "EVENT STATE VM/ACTIVE/BOOT_UNKNOWN/12 "));
	assert_false(matches(d, "EVENT STATE VMX/ACTIVE/BOOT/1 "));
	assert_false(matches(d, "EVENT STATE VM/ACTIVE/BOOT/1"));
	assert_false(matches(d, "EVENT STATE VM/ACTIVE/BOOT/ "));
	assert_false(matches(d, "EVENT STATE VM/ACTIVE/BOOT/x/1 "));
	hb_hookdef_free(d);

	d = ok("NAME = h\nTYPE = state\nCOMMAND = x\nRESOURCE = VM\nSTATE = ACTIVE\nLCM_STATE = *\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/ACTIVE/");
	assert_true(matches(d, "EVENT STATE VM/ACTIVE/RUNNING/1 "));
	assert_false(matches(d, "EVENT STATE VM/ACTIVEX/RUNNING/1 "));
	assert_false(matches(d, "EVENT STATE VM/PENDING/LCM_INIT/1 "));
	hb_hookdef_free(d);

	d = ok("NAME = h\nTYPE = state\nCOMMAND = x\nRESOURCE = VM\nSTATE = ACTIVE\nLCM_STATE = BOOT*\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE VM/ACTIVE/BOOT");
	assert_true(matches(d, "EVENT STATE VM/ACTIVE/BOOT/1 "));
	assert_true(matches(d, "EVENT STATE VM/ACTIVE/BOOT_UNKNOWN/1 "));
	assert_false(matches(d, "EVENT STATE VM/ACTIVE/RUNNING/1 "));
	hb_hookdef_free(d);

	d = ok("NAME = h\nTYPE = state\nCOMMAND = x\nRESOURCE = HOST\nSTATE = *\n");
	assert_string_equal(hb_hookdef_prefix(d), "EVENT STATE HOST/");
	assert_true(matches(d, "EVENT STATE HOST/ERROR//5 "));
	assert_false(matches(d, "EVENT STATE HOST/ERROR/X/5 "));
	hb_hookdef_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_example),
		cmocka_unit_test(test_state_example),
		cmocka_unit_test(test_host_hooks),
		cmocka_unit_test(test_on_shortcuts),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_command),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_api_rules),
		cmocka_unit_test(test_state_rules),
		cmocka_unit_test(test_no_resources),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_stored_template_reloads),
		cmocka_unit_test(test_update_replace),
		cmocka_unit_test(test_update_append),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_wildcard_triggers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
