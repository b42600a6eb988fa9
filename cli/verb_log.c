/* verb_log.c -- hookctl log: execution records across hooks, filtered by time, hook and result. */
#include "verbs.h"

#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "dates.h"
#include "records.h"
#include "xml.h"

enum { LOG_SINCE, LOG_UNTIL, LOG_HOOK_ID, LOG_SUCCESS, LOG_ERROR };

/* Reads the date option k into buf as epoch seconds, "-1" when absent. */
static int date_arg(const hb_cli_args *a, int k, const char *flag, char *buf, size_t size, int64_t *t, hb_error *err)
{
	*t = -1;
	if (a->opt[k] != NULL && hb_date_parse(a->opt[k], t, err) < 0)
		return hb_error_prefix(err, "log: %s", flag);
	snprintf(buf, size, "%" PRId64, *t);
	return 0;
}

static int print_table(FILE *out, xmlNodePtr log, hb_error *err)
{
	static const char *const headers[] = { "HOOK", "ID", "TIMESTAMP", "RC", "EXECUTION", "COMMAND" };
	hb_autotable hb_table *t = hb_table_new(6, headers, "rrlrll");

	if (t == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (xmlNodePtr n = log->children; n != NULL; n = n->next) {
		hb_autorecord hb_record r = { 0 };
		char when[64], exec[128];
		if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, BAD_CAST "HOOK_EXECUTION_RECORD") != 0)
			continue;
		if (hb_record_read(n, &r, err) < 0)
			return err->code;
		if (hb_table_add(t, (const char *const[]){ r.hook_id, r.exec_id, hb_record_time(&r, when, sizeof(when)),
							  hb_record_rc(&r), hb_record_execution(&r, exec, sizeof(exec)),
							  r.command },
				 err) < 0)
			return err->code;
	}
	hb_table_print(t, out);
	return 0;
}

static int run_log(hb_cli *cli, const hb_cli_args *a, hb_error *err)
{
	char since[24], until[24], hook[24] = "-1";
	const char *filter = "all";
	hb_autofree char *raw = NULL;
	hb_autodoc xmlDocPtr doc = NULL;
	int64_t s, u;
	size_t rawlen;

	if (date_arg(a, LOG_SINCE, "--since", since, sizeof(since), &s, err) < 0 ||
	    date_arg(a, LOG_UNTIL, "--until", until, sizeof(until), &u, err) < 0)
		return err->code;
	if (s >= 0 && u >= 0 && s > u)
		return hb_error_set(err, -HB_EINVAL, "log: --since is after --until");
	if (a->opt[LOG_HOOK_ID] != NULL) {
		int64_t id;
		if (hb_cli_parse_id(a->opt[LOG_HOOK_ID], "log: --hook-id", &id, err) < 0)
			return err->code;
		snprintf(hook, sizeof(hook), "%" PRId64, id);
	}
	if (a->opt[LOG_SUCCESS] != NULL && a->opt[LOG_ERROR] != NULL)
		return hb_error_set(err, -HB_EINVAL, "log: give only one of --success and --error");
	if (a->opt[LOG_SUCCESS] != NULL)
		filter = "success";
	else if (a->opt[LOG_ERROR] != NULL)
		filter = "error";
	if (hb_ctl_call_doc(cli->ctl, (const char *const[]){ "LOG", since, until, hook, filter, NULL }, "HOOKLOG", &doc,
			    &raw, &rawlen, err) < 0)
		return err->code;
	if (cli->format != HB_FORMAT_TABLE)
		return hb_output_doc(cli->out, cli->format, doc, raw, rawlen, err);
	return print_table(cli->out, xmlDocGetRootElement(doc), err);
}

static const hb_cli_option log_options[] = {
	[LOG_SINCE] = { "--since", NULL, "T", "only executions that started at or after T" },
	[LOG_UNTIL] = { "--until", NULL, "T", "only executions that started at or before T" },
	[LOG_HOOK_ID] = { "--hook-id", NULL, "ID", "only the executions of hook ID" },
	[LOG_SUCCESS] = { "--success", NULL, NULL, "only successful executions" },
	[LOG_ERROR] = { "--error", NULL, NULL, "only failed executions" },
	{ NULL, NULL, NULL, NULL },
};

const hb_cli_verb hb_verb_log = {
	.name = "log",
	.synopsis = "[--since T] [--until T] [--hook-id ID] [--success|--error]",
	.summary = "list executions across hooks",
	.help = "Prints the kept execution records of every hook, oldest first, as a table:\n"
		"HOOK, ID, TIMESTAMP (local time), RC, EXECUTION and COMMAND.  T is epoch\n"
		"seconds or ISO 8601: YYYY-MM-DD (local midnight), YYYY-MM-DDTHH:MM[:SS],\n"
		"optionally followed by Z or +HH:MM/-HH:MM (without one it is local time).\n"
		"Both bounds are inclusive.\n",
	.options = log_options,
	.max_args = 0,
	.formats = true,
	.run = run_log,
};
