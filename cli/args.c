/* args.c -- parsing what follows a verb on hookctl's command line, and the ids its arguments name. */
#include "args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Finds the option of verb spelled as the len bytes of word; -1 if none. */
static int find_option(const hb_cli_verb *verb, const char *word, size_t len)
{
	for (int i = 0; verb->options != NULL && verb->options[i].name != NULL; i++) {
		const hb_cli_option *o = &verb->options[i];
		if ((strlen(o->name) == len && strncmp(o->name, word, len) == 0) ||
		    (o->alias != NULL && strlen(o->alias) == len && strncmp(o->alias, word, len) == 0))
			return i;
	}
	return -1;
}

int hb_cli_args_parse(const hb_cli_verb *verb, int argc, char **argv, hb_cli_args *a, hb_error *err)
{
	bool options_end = false;

	a->npos = 0;
	memset(a->opt, 0, sizeof(a->opt));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i], *eq, *value;
		const hb_cli_option *o;
		int k;

		if (options_end || w[0] != '-' || strcmp(w, "-") == 0) {
			a->pos[a->npos++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			options_end = true;
			continue;
		}
		eq = strncmp(w, "--", 2) == 0 ? strchr(w, '=') : NULL;
		k = find_option(verb, w, eq ? (size_t)(eq - w) : strlen(w));
		if (k < 0)
			return hb_error_set(err, -HB_EINVAL, "%s: unknown option %.*s", verb->name,
					    (int)(eq ? (size_t)(eq - w) : strlen(w)), w);
		o = &verb->options[k];
		if (o->value == NULL) {
			if (eq != NULL)
				return hb_error_set(err, -HB_EINVAL, "%s: %s takes no value", verb->name, o->name);
			a->opt[k] = "";
			continue;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return hb_error_set(err, -HB_EINVAL, "%s: %s needs a value (%s)", verb->name, o->name, o->value);
		if (a->opt[k] != NULL)
			return hb_error_set(err, -HB_EINVAL, "%s: %s given twice", verb->name, o->name);
		a->opt[k] = value;
	}
	if (a->npos < verb->min_args)
		return hb_error_set(err, -HB_EINVAL, "%s: missing arguments (usage: hookctl %s %s)", verb->name,
				    verb->name, verb->synopsis);
	if (verb->max_args != HB_CLI_UNBOUNDED && a->npos > verb->max_args)
		return hb_error_set(err, -HB_EINVAL, "%s: unexpected argument '%s' (usage: hookctl %s%s%s)", verb->name,
				    a->pos[verb->max_args], verb->name, verb->synopsis[0] ? " " : "", verb->synopsis);
	return 0;
}

int hb_cli_parse_id(const char *s, const char *what, int64_t *out, hb_error *err)
{
	char *end;
	long long v;

	if (s[0] < '0' || s[0] > '9')
		return hb_error_set(err, -HB_EINVAL, "%s must be a non-negative integer, not '%s'", what, s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return hb_error_set(err, -HB_EINVAL, "%s must be a non-negative integer, not '%s'", what, s);
	*out = v;
	return 0;
}
