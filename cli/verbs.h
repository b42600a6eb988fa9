/* verbs.h -- what hookctl's verbs are: a name, a command line, a help text and one function each. */
#ifndef HB_CLI_VERBS_H
#define HB_CLI_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlclient.h"
#include "error.h"
#include "output.h"

#define HB_CLI_MAX_OPTIONS 8
#define HB_CLI_UNBOUNDED ((size_t)-1)

/* One option a verb accepts besides the global ones. */
typedef struct hb_cli_option {
	const char *name;    /* "--since" */
	const char *alias;   /* "-e", or NULL */
	const char *value;   /* the value's name in the help ("T"), NULL for a flag */
	const char *help;    /* one line */
} hb_cli_option;

/* A verb's command line once parsed: its positional arguments in order and,
 * at the index of each option of the verb, the option's value ("" for a
 * flag that was given) or NULL. */
typedef struct hb_cli_args {
	const char **pos;
	size_t npos;
	const char *opt[HB_CLI_MAX_OPTIONS];
} hb_cli_args;

/* What every verb works with. */
typedef struct hb_cli {
	hb_ctl *ctl;
	hb_format format;   /* HB_FORMAT_TABLE unless -x or -j (only for verbs with formats) */
	FILE *out;
	/* Prints one failure among several (delete ID...); main's, since only
	 * main prints errors. */
	void (*report)(const hb_error *err);
} hb_cli;

/*
 * A verb.  run returns 0, or a negative code with err filled: -HB_EINVAL for
 * a usage error, HB_CTL_REFUSED or HB_CTL_UNREACHABLE as the client returns
 * them, anything else for a failure of hookctl itself.  A verb that reported
 * its failures through cli->report returns their code with err's message
 * empty.
 */
typedef struct hb_cli_verb {
	const char *name;
	const char *synopsis;   /* arguments after the name, "ID [-e EXEC_ID]" */
	const char *summary;    /* one line for hookctl --help */
	const char *help;       /* what it does and prints, for hookctl VERB --help */
	const hb_cli_option *options;   /* NULL-name-terminated, at most HB_CLI_MAX_OPTIONS */
	size_t min_args, max_args;      /* positional arguments */
	bool formats;                   /* accepts -x and -j */
	int (*run)(hb_cli *cli, const hb_cli_args *a, hb_error *err);
} hb_cli_verb;

/* verb_hook.c */
extern const hb_cli_verb hb_verb_create, hb_verb_list, hb_verb_show, hb_verb_update, hb_verb_rename,
	hb_verb_delete, hb_verb_lock, hb_verb_unlock, hb_verb_retry;
/* verb_log.c */
extern const hb_cli_verb hb_verb_log;

/* Reads s, an argument named what ("ID", "EXEC_ID"), as a non-negative
 * decimal id; anything else is -HB_EINVAL. */
int hb_cli_parse_id(const char *s, const char *what, int64_t *out, hb_error *err);

#endif
