/* main.c -- hookctl's command line: global options, the table of verbs, dispatch, and the one line and exit status of an error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "args.h"
#include "cleanup.h"
#include "ctlclient.h"
#include "verbs.h"

/* Exit statuses (DESIGN section 6, issue #4). */
enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static const hb_cli_verb *const verbs[] = {
	&hb_verb_create, &hb_verb_list, &hb_verb_show, &hb_verb_update, &hb_verb_rename,
	&hb_verb_delete, &hb_verb_lock, &hb_verb_unlock, &hb_verb_retry, &hb_verb_log,
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

enum { G_XML, G_JSON, G_ENDPOINT, G_CONFIG, G_TIMEOUT, G_HELP, G_VERSION };

/* The global options, which may come before or after the verb. */
static const hb_cli_option globals[] = {
	[G_XML] = { "--xml", "-x", NULL, "print hem's XML document (list, show, log)" },
	[G_JSON] = { "--json", "-j", NULL, "print the document as JSON (list, show, log)" },
	[G_ENDPOINT] = { "--endpoint", NULL, "E", "hem's control endpoint (see ENDPOINT below)" },
	[G_CONFIG] = { "--config", "-c", "FILE", "hem.conf to read CONTROL_ENDPOINT from" },
	[G_TIMEOUT] = { "--timeout", NULL, "MS", "how long to wait for hem's answer (default 10000)" },
	[G_HELP] = { "--help", "-h", NULL, "print this help, or a verb's: hookctl VERB --help" },
	[G_VERSION] = { "--version", "-V", NULL, "print hookctl's version" },
};
#define NGLOBALS (sizeof(globals) / sizeof(globals[0]))

/* The global options as given. */
struct global_args {
	const char *opt[NGLOBALS];
	const hb_cli_verb *verb;
	char **rest;    /* what belongs to the verb, in order */
	int nrest;
};

static void print_options(FILE *out, const hb_cli_option *opts, size_t n)
{
	for (size_t i = 0; i < n && opts[i].name != NULL; i++) {
		char spell[64];
		snprintf(spell, sizeof(spell), "%s%s%s%s%s", opts[i].alias ? opts[i].alias : "", opts[i].alias ? ", " : "",
			 opts[i].name, opts[i].value ? " " : "", opts[i].value ? opts[i].value : "");
		fprintf(out, "  %-22s %s\n", spell, opts[i].help);
	}
}

static void usage(FILE *out)
{
	fputs("usage: hookctl [OPTIONS] VERB [ARGUMENTS]\n"
	      "Manages the hooks of hem, the hookbus hook execution manager, through its\n"
	      "control endpoint, as onehook manages OpenNebula's.\n"
	      "\nVerbs:\n", out);
	for (size_t i = 0; i < NVERBS; i++) {
		char spell[80];
		snprintf(spell, sizeof(spell), "%s %s", verbs[i]->name, verbs[i]->synopsis);
		fprintf(out, "  %-34s %s\n", spell, verbs[i]->summary);
	}
	fputs("\nOptions (before or after the verb):\n", out);
	print_options(out, globals, NGLOBALS);
	fputs("\nENDPOINT: --endpoint E, else $HOOKBUS_ENDPOINT, else CONTROL_ENDPOINT of -c FILE,\n"
	      "else " HB_CTL_DEFAULT_ENDPOINT ".\n"
	      "Exit status: 0 success, 1 refused by hem (its reason is printed), 2 usage error,\n"
	      "3 hem unreachable.  See hookctl(1).\n", out);
}

static void verb_usage(FILE *out, const hb_cli_verb *v)
{
	fprintf(out, "usage: hookctl %s%s%s%s [OPTIONS]\n", v->name, v->synopsis[0] ? " " : "", v->synopsis,
		v->formats ? " [-x|-j]" : "");
	fputs(v->help, out);
	if (v->options != NULL) {
		fputs("\nOptions:\n", out);
		print_options(out, v->options, HB_CLI_MAX_OPTIONS);
	}
	fputs("\nGlobal options:\n", out);
	print_options(out, globals, NGLOBALS);
}

static const hb_cli_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i]->name, name) == 0)
			return verbs[i];
	return NULL;
}

/* Matches word against the global options; returns the index or -1.  *value
 * points after '=' for --name=value. */
static int find_global(const char *word, const char **value)
{
	const char *eq = strncmp(word, "--", 2) == 0 ? strchr(word, '=') : NULL;
	size_t len = eq ? (size_t)(eq - word) : strlen(word);

	*value = eq ? eq + 1 : NULL;
	for (size_t i = 0; i < NGLOBALS; i++)
		if ((strlen(globals[i].name) == len && strncmp(globals[i].name, word, len) == 0) ||
		    (globals[i].alias && strlen(globals[i].alias) == len && strncmp(globals[i].alias, word, len) == 0))
			return (int)i;
	return -1;
}

/* Takes the global options out of argv wherever they are, finds the verb
 * (the first other word) and leaves the rest, in order, to the verb. */
static int parse_globals(int argc, char **argv, struct global_args *g, hb_error *err)
{
	bool rest = false;

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i], *value;
		int k = rest ? -1 : find_global(w, &value);

		if (!rest && strcmp(w, "--") == 0) {
			rest = true;
			if (g->verb != NULL)
				g->rest[g->nrest++] = argv[i];
			continue;
		}
		if (k < 0) {
			if (g->verb != NULL) {
				g->rest[g->nrest++] = argv[i];
			} else if (!rest && w[0] == '-') {
				return hb_error_set(err, -HB_EINVAL, "unknown option %s (verb options follow the verb)", w);
			} else if ((g->verb = find_verb(w)) == NULL) {
				return hb_error_set(err, -HB_EINVAL, "unknown verb '%s'", w);
			}
			continue;
		}
		if (globals[k].value == NULL) {
			if (value != NULL)
				return hb_error_set(err, -HB_EINVAL, "%s takes no value", globals[k].name);
			g->opt[k] = "";
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return hb_error_set(err, -HB_EINVAL, "%s needs a value (%s)", globals[k].name, globals[k].value);
			value = argv[++i];
		}
		g->opt[k] = value;
	}
	return 0;
}

static int parse_timeout(const char *s, int *out, hb_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 3600000)
		return hb_error_set(err, -HB_EINVAL, "--timeout takes milliseconds (1 to 3600000), not '%s'", s);
	*out = (int)v;
	return 0;
}

/* Prints "hookctl: <message>" as one line on standard error. */
static void print_error(const char *msg)
{
	fputs("hookctl: ", stderr);
	for (const char *p = msg; *p != '\0'; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
	fputc('\n', stderr);
}

static void report(const hb_error *err)
{
	print_error(err->msg);
}

static int exit_status(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == -HB_EINVAL)
		return EXIT_USAGE;
	if (rc == HB_CTL_UNREACHABLE)
		return EXIT_UNREACHABLE;
	return EXIT_REFUSED;
}

/* Decides the output format of verb from -x and -j. */
static int output_format(const struct global_args *g, hb_format *out, hb_error *err)
{
	*out = HB_FORMAT_TABLE;
	if (g->opt[G_XML] && g->opt[G_JSON])
		return hb_error_set(err, -HB_EINVAL, "give only one of -x and -j");
	if (!g->opt[G_XML] && !g->opt[G_JSON])
		return 0;
	if (!g->verb->formats)
		return hb_error_set(err, -HB_EINVAL, "%s has no -x/-j output (list, show and log have)", g->verb->name);
	*out = g->opt[G_XML] ? HB_FORMAT_XML : HB_FORMAT_JSON;
	return 0;
}

/* Parses the verb's arguments, finds hem and runs the verb. */
static int run(struct global_args *g, hb_error *err)
{
	hb_autofree const char **pos = calloc((size_t)g->nrest + 1, sizeof(char *));
	hb_autofree char *endpoint = NULL;
	hb_cli_args a = { .pos = pos };
	hb_cli cli = { .out = stdout, .report = report };
	int timeout_ms = HB_CTL_DEFAULT_TIMEOUT_MS;
	int rc;

	if (pos == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = hb_cli_args_parse(g->verb, g->nrest, g->rest, &a, err);
	if (rc == 0)
		rc = output_format(g, &cli.format, err);
	if (rc == 0 && g->opt[G_TIMEOUT] != NULL)
		rc = parse_timeout(g->opt[G_TIMEOUT], &timeout_ms, err);
	if (rc == 0)
		rc = hb_ctl_endpoint(g->opt[G_ENDPOINT], g->opt[G_CONFIG], &endpoint, err);
	if (rc == 0)
		rc = hb_ctl_new(endpoint, timeout_ms, &cli.ctl, err);
	if (rc < 0)
		return rc;
	rc = g->verb->run(&cli, &a, err);
	hb_ctl_free(cli.ctl);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int e = errno;
		if (rc == 0)
			rc = hb_error_set(err, -HB_EIO, "cannot write to standard output: %s", strerror(e));
	}
	return rc;
}

int main(int argc, char **argv)
{
	hb_autofree char **rest = calloc((size_t)argc + 1, sizeof(char *));
	struct global_args g = { .rest = rest };
	hb_error err = { 0 };
	int rc;

	if (rest == NULL) {
		print_error("out of memory");
		return EXIT_REFUSED;
	}
	rc = parse_globals(argc, argv, &g, &err);
	if (rc == 0 && g.opt[G_HELP] != NULL) {
		if (g.verb != NULL)
			verb_usage(stdout, g.verb);
		else
			usage(stdout);
		return 0;
	}
	if (rc == 0 && g.opt[G_VERSION] != NULL) {
		puts("hookctl " HB_VERSION);
		return 0;
	}
	if (rc == 0 && g.verb == NULL)
		rc = hb_error_set(&err, -HB_EINVAL, "no verb given (try 'hookctl --help')");
	if (rc == 0)
		rc = run(&g, &err);
	xmlCleanupParser();
	if (rc < 0 && err.msg[0] != '\0')
		print_error(err.msg);
	return exit_status(rc);
}
