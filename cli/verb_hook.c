/* verb_hook.c -- hookctl's verbs on hooks: create, list, show, update, rename, delete, lock, unlock, retry. */
#include "verbs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "cleanup.h"
#include "fsutil.h"
#include "records.h"
#include "xml.h"

#define TEMPLATE_MAX (1u << 20)   /* the largest template hookctl sends */
#define ID_BUF 24

/* Reads the template at path ("-": standard input).  Every failure is a
 * usage error naming the file. */
static int read_template(const char *path, char **text, hb_error *err)
{
	const char *what = strcmp(path, "-") == 0 ? "standard input" : path;
	hb_autofree char *t = NULL;
	size_t len;
	int rc;

	rc = hb_file_read(path, TEMPLATE_MAX, &t, &len, err);
	if (rc == -HB_ETOOBIG)
		return hb_error_set(err, -HB_EINVAL, "%s is larger than 1 MiB, the largest template hookctl sends", what);
	if (rc < 0) {
		if (strcmp(path, "-") == 0)
			hb_error_prefix(err, "standard input");
		err->code = -HB_EINVAL;
		return err->code;
	}
	if (memchr(t, '\0', len) != NULL)
		return hb_error_set(err, -HB_EINVAL, "%s holds a NUL byte: not a template", what);
	*text = hb_steal(&t);
	return 0;
}

/* Reads positional argument i as an id into buf (normalized decimal). */
static int arg_id(const hb_cli_args *a, size_t i, const char *what, char buf[ID_BUF], hb_error *err)
{
	int64_t id;

	if (hb_cli_parse_id(a->pos[i], what, &id, err) < 0)
		return err->code;
	snprintf(buf, ID_BUF, "%" PRId64, id);
	return 0;
}

/* Sends frames and prints the id hem answers as "<label>: <id>". */
static int call_print_id(hb_cli *cli, const char *const *frames, const char *label, hb_error *err)
{
	int64_t id;

	if (hb_ctl_call_id(cli->ctl, frames, &id, err) < 0)
		return err->code;
	fprintf(cli->out, "%s: %" PRId64 "\n", label, id);
	return 0;
}

static int run_create(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	hb_autofree char *text = NULL;

	if (read_template(a->pos[0], &text, err) < 0)
		return err->code;
	return call_print_id(cli, (const char *const[]){ "ALLOCATE", text, NULL }, "ID", err);
}

const hb_cli_verb hb_verb_create = {
	.name = "create",
	.synopsis = "FILE|-",
	.summary = "register a new hook from its template",
	.help = "Sends the hook template in FILE (- reads standard input; at most 1 MiB) to hem,\n"
		"which checks it and registers the hook, then prints its id as \"ID: <n>\".\n"
		"hem's reason for refusing a template names its line and column.\n",
	.min_args = 1,
	.max_args = 1,
	.run = run_create,
};

/* The text of the element name under node as a new string (NULL if absent). */
static char *text_of(xmlNodePtr node, const char *name)
{
	return node ? hb_xml_child_text(node, name) : NULL;
}

/* The TRIGGER cell of a hook: CALL for api hooks, RESOURCE/STATE[/LCM_STATE]
 * for state hooks. */
static char *trigger_of(xmlNodePtr hook)
{
	xmlNodePtr t = hb_xml_child(hook, "TEMPLATE");
	hb_autofree char *call = text_of(t, "CALL"), *res = text_of(t, "RESOURCE"), *state = text_of(t, "STATE"),
			 *lcm = text_of(t, "LCM_STATE");
	char *out = NULL;

	if (call != NULL)
		return hb_steal(&call);
	if (res == NULL && state == NULL)
		return strdup("-");
	if (asprintf(&out, "%s/%s%s%s", res ? res : "-", state ? state : "-", lcm && lcm[0] ? "/" : "",
		     lcm && lcm[0] ? lcm : "") < 0)
		return NULL;
	return out;
}

static int run_list(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	static const char *const headers[] = { "ID", "NAME", "TYPE", "TRIGGER" };
	hb_autotable hb_table *t = NULL;
	hb_autofree char *raw = NULL;
	hb_autodoc xmlDocPtr doc = NULL;
	size_t rawlen;

	(void)a;
	if (hb_ctl_call_doc(cli->ctl, (const char *const[]){ "POOL", NULL }, "HOOK_POOL", &doc, &raw, &rawlen, err) < 0)
		return err->code;
	if (cli->format != HB_FORMAT_TABLE)
		return hb_output_doc(cli->out, cli->format, doc, raw, rawlen, err);
	t = hb_table_new(4, headers, "rlll");
	if (t == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (xmlNodePtr h = xmlDocGetRootElement(doc)->children; h != NULL; h = h->next) {
		hb_autofree char *id = NULL, *name = NULL, *type = NULL, *trigger = NULL;
		if (h->type != XML_ELEMENT_NODE || xmlStrcmp(h->name, BAD_CAST "HOOK") != 0)
			continue;
		id = text_of(h, "ID");
		name = text_of(h, "NAME");
		type = text_of(h, "TYPE");
		trigger = trigger_of(h);
		if (trigger == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		if (hb_table_add(t, (const char *const[]){ id, name, type, trigger }, err) < 0)
			return err->code;
	}
	hb_table_print(t, cli->out);
	return 0;
}

const hb_cli_verb hb_verb_list = {
	.name = "list",
	.synopsis = "",
	.summary = "list the hooks",
	.help = "Prints every hook as a table: ID, NAME, TYPE and TRIGGER (the CALL of an api\n"
		"hook, RESOURCE/STATE/LCM_STATE of a state hook).\n",
	.formats = true,
	.run = run_list,
};

/* Prints value in template syntax: quoted, with " escaped as \". */
static void print_quoted(FILE *out, const char *value)
{
	fputc('"', out);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '"')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

/* Prints the TEMPLATE element's attributes as NAME="value" lines, vectors as
 * NAME=[ K="v", ... ] over several lines, as onehook does. */
static int print_template(FILE *out, xmlNodePtr tmpl, hb_error *err)
{
	for (xmlNodePtr c = tmpl ? tmpl->children : NULL; c != NULL; c = c->next) {
		bool vector = false, first = true;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (xmlNodePtr v = c->children; v != NULL; v = v->next)
			vector = vector || v->type == XML_ELEMENT_NODE;
		fprintf(out, "%s=", (const char *)c->name);
		if (!vector) {
			xmlChar *value = xmlNodeGetContent(c);
			if (value == NULL && c->children != NULL)
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			print_quoted(out, value ? (const char *)value : "");
			xmlFree(value);
			fputc('\n', out);
			continue;
		}
		fputs("[\n", out);
		for (xmlNodePtr v = c->children; v != NULL; v = v->next) {
			xmlChar *value;
			if (v->type != XML_ELEMENT_NODE)
				continue;
			value = xmlNodeGetContent(v);
			if (value == NULL && v->children != NULL)
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			fprintf(out, "%s  %s=", first ? "" : ",\n", (const char *)v->name);
			print_quoted(out, value ? (const char *)value : "");
			xmlFree(value);
			first = false;
		}
		fputs(" ]\n", out);
	}
	return 0;
}

static const char *lock_name(const char *level)
{
	static const char *const names[] = { "None", "Use", "Manage", "Admin", "All" };

	if (level == NULL)
		return names[0];
	if (level[0] >= '0' && level[0] <= '4' && level[1] == '\0')
		return names[level[0] - '0'];
	return level;
}

/* Prints the EXECUTION LOG table of a hook's HOOKLOG (which may be NULL). */
static int print_log(FILE *out, xmlNodePtr log, hb_error *err)
{
	static const char *const headers[] = { "ID", "TIMESTAMP", "RC", "EXECUTION" };
	hb_autotable hb_table *t = hb_table_new(4, headers, "rlrl");

	if (t == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (xmlNodePtr n = log ? log->children : NULL; n != NULL; n = n->next) {
		hb_autorecord hb_record r = { 0 };
		char when[64], exec[128];
		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "HOOK_EXECUTION_RECORD") != 0)
			continue;
		if (hb_record_read(n, &r, err) < 0)
			return err->code;
		if (hb_table_add(t, (const char *const[]){ r.exec_id, hb_record_time(&r, when, sizeof(when)), hb_record_rc(&r),
							  hb_record_execution(&r, exec, sizeof(exec)) },
				 err) < 0)
			return err->code;
	}
	hb_table_print(t, out);
	return 0;
}

/* Prints a HOOK document as onehook show does. */
static int print_hook(FILE *out, xmlNodePtr hook, hb_error *err)
{
	hb_autofree char *id = text_of(hook, "ID"), *name = text_of(hook, "NAME"), *type = text_of(hook, "TYPE"),
			 *locked = text_of(hb_xml_child(hook, "LOCK"), "LOCKED");
	char title[64];

	snprintf(title, sizeof(title), "HOOK %s INFORMATION", id ? id : "?");
	hb_output_section(out, 1, title);
	hb_output_field(out, "ID", id);
	hb_output_field(out, "NAME", name);
	hb_output_field(out, "TYPE", type);
	hb_output_field(out, "LOCK", lock_name(locked));
	hb_output_section(out, 0, "HOOK TEMPLATE");
	if (print_template(out, hb_xml_child(hook, "TEMPLATE"), err) < 0)
		return err->code;
	hb_output_section(out, 0, "EXECUTION LOG");
	return print_log(out, hb_xml_child(hook, "HOOKLOG"), err);
}

enum { SHOW_EXECUTION };

static int run_show(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char id[ID_BUF], exec[ID_BUF];
	hb_autofree char *raw = NULL;
	hb_autodoc xmlDocPtr doc = NULL;
	hb_autorecord hb_record r = { 0 };
	size_t rawlen;

	if (arg_id(a, 0, "ID", id, err) < 0)
		return err->code;
	if (a->opt[SHOW_EXECUTION] == NULL) {
		if (hb_ctl_call_doc(cli->ctl, (const char *const[]){ "INFO", id, NULL }, "HOOK", &doc, &raw, &rawlen, err) < 0)
			return err->code;
		if (cli->format != HB_FORMAT_TABLE)
			return hb_output_doc(cli->out, cli->format, doc, raw, rawlen, err);
		return print_hook(cli->out, xmlDocGetRootElement(doc), err);
	}
	{
		int64_t e;
		if (hb_cli_parse_id(a->opt[SHOW_EXECUTION], "EXEC_ID", &e, err) < 0)
			return err->code;
		snprintf(exec, sizeof(exec), "%" PRId64, e);
	}
	if (hb_ctl_call_doc(cli->ctl, (const char *const[]){ "INFO", id, exec, NULL }, "HOOK_EXECUTION_RECORD", &doc, &raw,
			    &rawlen, err) < 0)
		return err->code;
	if (cli->format != HB_FORMAT_TABLE)
		return hb_output_doc(cli->out, cli->format, doc, raw, rawlen, err);
	if (hb_record_read(xmlDocGetRootElement(doc), &r, err) < 0)
		return err->code;
	return hb_record_print(cli->out, &r, err);
}

static const hb_cli_option show_options[] = {
	[SHOW_EXECUTION] = { "--execution", "-e", "EXEC_ID", "show one execution record of the hook" },
	{ NULL, NULL, NULL, NULL },
};

const hb_cli_verb hb_verb_show = {
	.name = "show",
	.synopsis = "ID [-e EXEC_ID]",
	.summary = "show a hook with its execution log, or one execution",
	.help = "Prints the hook's information (ID, NAME, TYPE, LOCK), its template, and its\n"
		"EXECUTION LOG: one line per kept execution with its id, start time (local\n"
		"time), exit code and result (SUCCESS, ERROR, PENDING, RUNNING, INTERRUPTED or\n"
		"SKIPPED, with \"(timeout)\", \"(retry of N)\", \"(attempt N)\" and, for a BLOCKING\n"
		"hook, \"(blocking: allow|refuse)\" where they apply).\n"
		"The template shows every attribute, FILTER, RETRIES, CONCURRENCY and the others\n"
		"included.\n"
		"With -e, prints execution EXEC_ID of the hook instead: its ids, start and end,\n"
		"command, arguments, exit code, duration, remote host, triggering event, the\n"
		"execution it retries, its attempt number, BLOCKING and VERDICT, and (for a\n"
		"retry waiting its turn) the time it may start, then its STDOUT and STDERR\n"
		"sections as text.\n",
	.options = show_options,
	.min_args = 1,
	.max_args = 1,
	.formats = true,
	.run = run_show,
};

enum { UPDATE_APPEND };

static int run_update(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	hb_autofree char *text = NULL;
	char id[ID_BUF];

	if (arg_id(a, 0, "ID", id, err) < 0 || read_template(a->pos[1], &text, err) < 0)
		return err->code;
	return call_print_id(cli,
			     (const char *const[]){ "UPDATE", id, text, a->opt[UPDATE_APPEND] ? "1" : "0", NULL },
			     "ID", err);
}

static const hb_cli_option update_options[] = {
	[UPDATE_APPEND] = { "--append", "-a", NULL, "merge: replace only the attributes FILE names" },
	{ NULL, NULL, NULL, NULL },
};

const hb_cli_verb hb_verb_update = {
	.name = "update",
	.synopsis = "ID FILE|- [--append]",
	.summary = "replace (or with --append merge) a hook's template",
	.help = "Sends the template in FILE (- reads standard input; at most 1 MiB) as the\n"
		"hook's new template; NAME and TYPE stay.  With --append, the attributes FILE\n"
		"names replace the hook's and the others stay.  A locked hook refuses it.\n"
		"Prints \"ID: <n>\".\n",
	.options = update_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_update,
};

static int run_rename(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char id[ID_BUF];

	if (arg_id(a, 0, "ID", id, err) < 0)
		return err->code;
	return call_print_id(cli, (const char *const[]){ "RENAME", id, a->pos[1], NULL }, "ID", err);
}

const hb_cli_verb hb_verb_rename = {
	.name = "rename",
	.synopsis = "ID NAME",
	.summary = "rename a hook",
	.help = "Gives the hook a new NAME (unique, at most 128 characters).  A locked hook\n"
		"refuses it.  Prints \"ID: <n>\".\n",
	.min_args = 2,
	.max_args = 2,
	.run = run_rename,
};

/* Worse of two exit-relevant codes: unreachable over refused over others. */
static int worse(int have, int rc)
{
	if (have == HB_CTL_UNREACHABLE || rc == HB_CTL_UNREACHABLE)
		return HB_CTL_UNREACHABLE;
	return have != 0 ? have : rc;
}

static int run_delete(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char (*ids)[ID_BUF] = calloc(a->npos, ID_BUF);
	int failed = 0;

	if (ids == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (size_t i = 0; i < a->npos; i++)
		if (arg_id(a, i, "ID", ids[i], err) < 0) {
			free(ids);
			return err->code;
		}
	for (size_t i = 0; i < a->npos; i++) {
		hb_error one = { 0 };
		int rc = call_print_id(cli, (const char *const[]){ "DELETE", ids[i], NULL }, "ID", &one);
		if (rc == 0)
			continue;
		cli->report(&one);
		failed = worse(failed, rc);
		if (rc == HB_CTL_UNREACHABLE)
			break;   /* the others would wait just as long */
	}
	free(ids);
	hb_error_clear(err);
	err->code = failed;
	return failed;
}

const hb_cli_verb hb_verb_delete = {
	.name = "delete",
	.synopsis = "ID...",
	.summary = "delete hooks and their execution records",
	.help = "Deletes each hook named (with its execution records), printing \"ID: <n>\" for\n"
		"each one deleted and one error line for each one hem refuses (a locked hook\n"
		"refuses it).  Every id is tried; the exit status is non-zero when any failed.\n"
		"When hem cannot be reached, the remaining ids are not tried.\n",
	.min_args = 1,
	.max_args = HB_CLI_UNBOUNDED,
	.run = run_delete,
};

enum { LOCK_USE, LOCK_MANAGE, LOCK_ADMIN, LOCK_ALL };

static int run_lock(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	static const char *const levels[] = { [LOCK_USE] = "1", [LOCK_MANAGE] = "2", [LOCK_ADMIN] = "3", [LOCK_ALL] = "4" };
	const char *level = levels[LOCK_USE];
	char id[ID_BUF];
	int given = 0;

	for (int k = LOCK_USE; k <= LOCK_ALL; k++)
		if (a->opt[k] != NULL) {
			level = levels[k];
			given++;
		}
	if (given > 1)
		return hb_error_set(err, -HB_EINVAL, "lock: give only one of --use, --manage, --admin and --all");
	if (arg_id(a, 0, "ID", id, err) < 0)
		return err->code;
	return call_print_id(cli, (const char *const[]){ "LOCK", id, level, NULL }, "ID", err);
}

static const hb_cli_option lock_options[] = {
	[LOCK_USE] = { "--use", NULL, NULL, "lock level 1, the default" },
	[LOCK_MANAGE] = { "--manage", NULL, NULL, "lock level 2" },
	[LOCK_ADMIN] = { "--admin", NULL, NULL, "lock level 3" },
	[LOCK_ALL] = { "--all", NULL, NULL, "lock level 4" },
	{ NULL, NULL, NULL, NULL },
};

const hb_cli_verb hb_verb_lock = {
	.name = "lock",
	.synopsis = "ID [--use|--manage|--admin|--all]",
	.summary = "lock a hook against update, rename and delete",
	.help = "Locks the hook at the level given (--use by default); show prints it as LOCK.\n"
		"A locked hook refuses update, rename and delete until it is unlocked.\n"
		"Prints \"ID: <n>\".\n",
	.options = lock_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_lock,
};

static int run_unlock(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char id[ID_BUF];

	if (arg_id(a, 0, "ID", id, err) < 0)
		return err->code;
	return call_print_id(cli, (const char *const[]){ "UNLOCK", id, NULL }, "ID", err);
}

const hb_cli_verb hb_verb_unlock = {
	.name = "unlock",
	.synopsis = "ID",
	.summary = "unlock a hook",
	.help = "Removes the hook's lock.  Prints \"ID: <n>\".\n",
	.min_args = 1,
	.max_args = 1,
	.run = run_unlock,
};

static int run_retry(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char id[ID_BUF], exec[ID_BUF];

	if (arg_id(a, 0, "ID", id, err) < 0 || arg_id(a, 1, "EXEC_ID", exec, err) < 0)
		return err->code;
	return call_print_id(cli, (const char *const[]){ "RETRY", id, exec, NULL }, "EXECUTION ID", err);
}

const hb_cli_verb hb_verb_retry = {
	.name = "retry",
	.synopsis = "ID EXEC_ID",
	.summary = "run a hook again as one of its executions ran",
	.help = "Runs the hook again with the arguments, standard input and remote host\n"
		"recorded for execution EXEC_ID.  The new execution's record has RETRY=yes and\n"
		"RETRY_OF=EXEC_ID.  Prints the new execution's id as \"EXECUTION ID: <n>\";\n"
		"show ID -e <n> prints its result once it has run.\n",
	.min_args = 2,
	.max_args = 2,
	.run = run_retry,
};
