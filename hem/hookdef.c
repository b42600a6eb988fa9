/* hookdef.c -- checking hook templates (DESIGN section 4) and deriving each hook's trigger. */
#include "hookdef.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "cleanup.h"

/* Longest piece of a value quoted in an error message. */
#define MSG_VALUE_MAX 64

/* The attributes hem reads: each must be a single value given at most once. */
static const char *const known_attrs[] = {
	"NAME", "TYPE", "COMMAND", "ARGUMENTS", "ARGUMENTS_STDIN", "TIMEOUT", "REMOTE",
	"LOG_RETENTION", "CALL", "RESOURCE", "STATE", "LCM_STATE", "ON", "FILTER", "RETRIES",
	"RETRY_DELAY", "RETRY_ON", "CONCURRENCY", "CONCURRENCY_POLICY", "BLOCKING",
};

/* The attributes only state hooks may have. */
static const char *const state_attrs[] = { "RESOURCE", "STATE", "LCM_STATE", "ON" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool in_names(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int oom(hb_error *err)
{
	return hb_error_set(err, -HB_ENOMEM, "out of memory");
}

/* Writes into buf (of size bytes) a one-line rendering of value for an error
 * message: at most MSG_VALUE_MAX bytes, control characters shown as '?',
 * "..." marking a cut.  Returns buf. */
static const char *shown(const char *value, char *buf, size_t size)
{
	size_t n = 0, i;

	for (i = 0; value[i] != '\0' && i < MSG_VALUE_MAX && n + 1 < size; i++)
		buf[n++] = is_control((unsigned char)value[i]) ? '?' : value[i];
	if (value[i] != '\0' && n + 4 <= size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* Fills err with the formatted text followed by " (line L)" when attribute a
 * is known and carries a line; returns -HB_EINVAL. */
static int __attribute__((format(printf, 3, 4)))
attr_error(hb_error *err, const hb_tattr *a, const char *fmt, ...)
{
	char what[HB_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (a != NULL && a->line > 0)
		return hb_error_set(err, -HB_EINVAL, "%s (line %u)", what, a->line);
	return hb_error_set(err, -HB_EINVAL, "%s", what);
}

/* Returns the first single attribute named name in t, or NULL.  The
 * structural check has already made sure there is at most one. */
static const hb_tattr *single(const hb_template *t, const char *name)
{
	const hb_tattr *a = hb_template_find(t, name);

	return a != NULL && a->value != NULL ? a : NULL;
}

/* Appends name to the blank-separated list in buf (of size bytes), ending
 * the list with "..." when it does not fit. */
static void list_add(char *buf, size_t size, const char *name)
{
	size_t n = strlen(buf), m = strlen(name);

	if (n >= 3 && strcmp(buf + n - 3, "...") == 0)
		return;
	if (n + 1 + m + 4 > size) {
		if (n + 4 <= size)
			memcpy(buf + n, "...", 4);
		return;
	}
	if (n > 0)
		buf[n++] = ' ';
	memcpy(buf + n, name, m + 1);
}

/*
 * Refuses any attribute hem reads that is a vector or given twice,
 * reporting the first problem in template order (a repeat is a problem
 * where it repeats).
 */
static int check_structure(const hb_template *t, hb_error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const hb_tattr *a = &t->attrs[i];

		if (!in_names(known_attrs, COUNT(known_attrs), a->name))
			continue;
		if (a->value == NULL)
			return attr_error(err, a, "%s must be a single value, not a vector", a->name);
		for (size_t j = 0; j < i; j++) {
			const hb_tattr *first = &t->attrs[j];

			if (strcmp(first->name, a->name) != 0)
				continue;
			if (first->line > 0 && a->line > 0)
				return hb_error_set(err, -HB_EINVAL, "%s is given more than once (lines %u and %u)",
						    a->name, first->line, a->line);
			return attr_error(err, a, "%s is given more than once", a->name);
		}
	}
	return 0;
}

/* Returns NULL when name is a valid hook name, else what is wrong with it
 * (written into buf when it needs the offending character). */
static const char *name_problem(const char *name, char *buf, size_t size)
{
	size_t chars = 0;

	if (name[0] == '\0')
		return "cannot be empty";
	for (const char *p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_control(c))
			return "holds a control character";
		if (strchr("&|:\\\";/'#{}$<>", c) != NULL) {
			snprintf(buf, size, "holds '%c'; a name may not contain any of &|:\\\";/'#{}$<>", c);
			return buf;
		}
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	if (chars > HB_HOOK_NAME_MAX) {
		snprintf(buf, size, "is longer than %d characters", HB_HOOK_NAME_MAX);
		return buf;
	}
	return NULL;
}

int hb_hookdef_check_name(const char *name, hb_error *err)
{
	char buf[128];
	const char *problem = name_problem(name != NULL ? name : "", buf, sizeof(buf));

	if (problem != NULL)
		return hb_error_set(err, -HB_EINVAL, "NAME %s", problem);
	return 0;
}

const char *hb_hook_type_str(hb_hook_type type)
{
	return type == HB_HOOK_API ? "api" : "state";
}

/* Reads yes/no (also true/false, any case) from attribute a into *out;
 * leaves *out alone when a is NULL. */
static int read_bool(const hb_tattr *a, bool *out, hb_error *err)
{
	char buf[MSG_VALUE_MAX + 4];

	if (a == NULL)
		return 0;
	if (strcasecmp(a->value, "yes") == 0 || strcasecmp(a->value, "true") == 0)
		*out = true;
	else if (strcasecmp(a->value, "no") == 0 || strcasecmp(a->value, "false") == 0)
		*out = false;
	else
		return attr_error(err, a, "%s: '%s' is not yes or no", a->name,
				  shown(a->value, buf, sizeof(buf)));
	return 0;
}

/* Reads a whole number >= 0 (decimal digits only) from attribute a into
 * *out; leaves *out alone when a is NULL.  what says what it counts. */
static int read_count(const hb_tattr *a, const char *what, long *out, hb_error *err)
{
	char buf[MSG_VALUE_MAX + 4];
	long v = 0;

	if (a == NULL)
		return 0;
	if (a->value[0] == '\0')
		return attr_error(err, a, "%s: '' is not a whole number of %s >= 0", a->name, what);
	for (const char *p = a->value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return attr_error(err, a, "%s: '%s' is not a whole number of %s >= 0", a->name,
					  shown(a->value, buf, sizeof(buf)), what);
		if (v > (HB_HOOK_NUMBER_MAX - (*p - '0')) / 10)
			return attr_error(err, a, "%s: '%s' is larger than %ld", a->name,
					  shown(a->value, buf, sizeof(buf)), HB_HOOK_NUMBER_MAX);
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return 0;
}

/* Checks COMMAND: present, not empty, no control characters, and when it
 * is relative no ".." component (so it cannot leave the hook directory). */
static int check_command(const hb_tattr *a, hb_error *err)
{
	const char *p;

	if (a == NULL)
		return hb_error_set(err, -HB_EINVAL, "COMMAND is required");
	if (a->value[0] == '\0')
		return attr_error(err, a, "COMMAND cannot be empty");
	for (p = a->value; *p != '\0'; p++)
		if (is_control((unsigned char)*p))
			return attr_error(err, a, "COMMAND: holds a control character");
	if (a->value[0] == '/')
		return 0;
	for (p = a->value; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return attr_error(err, a,
					  "COMMAND: a relative path may not have a '..' component (it is under the hook directory)");
		p += len;
		if (*p == '/')
			p++;
	}
	return 0;
}

/* Checks that ARGUMENTS (when present) can be split into arguments. */
static int check_arguments(const hb_tattr *a, hb_error *err)
{
	char **argv = NULL;
	int rc;

	if (a == NULL)
		return 0;
	rc = hb_args_expand(a->value, NULL, NULL, &argv, NULL, err);
	hb_args_free(argv);
	if (rc < 0 && rc != -HB_ENOMEM && a->line > 0 && err != NULL) {
		char what[HB_ERROR_MAX];

		memcpy(what, err->msg, sizeof(what));
		what[sizeof(what) - 1] = '\0';
		return hb_error_set(err, rc, "%s (line %u)", what, a->line);
	}
	return rc;
}

/* Checks CALL of an api hook: a token with no blanks, '/' or control
 * characters; '*' is a wildcard (a bare '*' matches every call). */
static int check_call(const hb_tattr *a, hb_error *err)
{
	char buf[MSG_VALUE_MAX + 4];

	if (a == NULL)
		return hb_error_set(err, -HB_EINVAL, "CALL is required for an api hook");
	if (a->value[0] == '\0')
		return attr_error(err, a, "CALL cannot be empty");
	for (const char *p = a->value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_blank(c) || is_control(c) || c == '/')
			return attr_error(err, a, "CALL: '%s' is not an API call (no blanks, '/' or control characters)",
					  shown(a->value, buf, sizeof(buf)));
	}
	return 0;
}

/* Replaces the attribute named name in t with value (empty: removes it),
 * keeping its place and line. */
static int set_or_remove(hb_template *t, const char *name, const char *value, hb_error *err)
{
	if (value[0] == '\0') {
		hb_template_remove(t, name);
		return 0;
	}
	return hb_template_set(t, name, value, err);
}

/* Checks that a, the STATE or LCM_STATE given next to ON = shortcut, agrees
 * with the value want the shortcut sets. */
static int check_agrees(const hb_tattr *a, const char *want, const char *shortcut, hb_error *err)
{
	char buf[MSG_VALUE_MAX + 4];

	if (a == NULL || strcmp(a->value, want) == 0)
		return 0;
	return attr_error(err, a, "%s: '%s' contradicts ON = %s, which sets %s = '%s'", a->name,
			  shown(a->value, buf, sizeof(buf)), shortcut, a->name, want);
}

/* Whether value, which may hold '*' wildcards, names one of the n names:
 * equal to one of them, or a pattern that matches at least one. */
static bool names_match(const char *value, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hb_hookdef_glob(value, names[i], strlen(names[i])))
			return true;
	return false;
}

/* Checks STATE and LCM_STATE of a state hook without an ON shortcut (no ON
 * or ON = CUSTOM) against object r; '*' in them is a wildcard that must
 * match at least one of r's states. */
static int check_custom(const hb_template *t, const hb_resource *r, hb_error *err)
{
	const hb_tattr *st = single(t, "STATE");
	const hb_tattr *lcm = single(t, "LCM_STATE");
	char buf[MSG_VALUE_MAX + 4];

	if (st == NULL)
		return hb_error_set(err, -HB_EINVAL,
				    "STATE is required for a state hook without an ON shortcut (RESOURCE = %s)",
				    r->name);
	if (strchr(st->value, '*') != NULL ? !names_match(st->value, r->states, r->nstates)
					   : !hb_resource_has_state(r, st->value))
		return attr_error(err, st, "STATE: '%s' %s of %s", shown(st->value, buf, sizeof(buf)),
				  strchr(st->value, '*') ? "matches no state" : "is not a state", r->name);
	if (r->nlcm == 0) {
		if (lcm != NULL && lcm->value[0] != '\0')
			return attr_error(err, lcm, "LCM_STATE: %s has no LCM states (leave LCM_STATE out)",
					  r->name);
		return 0;
	}
	if (lcm == NULL || lcm->value[0] == '\0')
		return attr_error(err, lcm, "LCM_STATE is required for a %s hook without an ON shortcut",
				  r->name);
	if (strchr(lcm->value, '*') != NULL ? !names_match(lcm->value, r->lcm_states, r->nlcm)
					    : !hb_resource_has_lcm(r, lcm->value))
		return attr_error(err, lcm, "LCM_STATE: '%s' %s of %s", shown(lcm->value, buf, sizeof(buf)),
				  strchr(lcm->value, '*') ? "matches no LCM state" : "is not an LCM state", r->name);
	return 0;
}

/* Writes into buf (of size bytes) value upper-cased as shown() renders it,
 * and returns whether it is all there (so that it may be looked up). */
static bool upper_shown(const char *value, char *buf, size_t size)
{
	shown(value, buf, size);
	for (char *p = buf; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return strlen(value) <= MSG_VALUE_MAX;
}

/*
 * Checks the trigger of a state hook in t (RESOURCE, ON, STATE, LCM_STATE)
 * against res, and rewrites t as OpenNebula stores it: RESOURCE upper-case,
 * ON turned into STATE and LCM_STATE and removed.
 */
static int check_state_trigger(hb_template *t, const hb_resources *res, hb_error *err)
{
	const hb_tattr *a = hb_template_find(t, "CALL");
	char name[MSG_VALUE_MAX + 4], on[MSG_VALUE_MAX + 4], list[512] = "", buf[MSG_VALUE_MAX + 4];
	const hb_resource *r = NULL;
	const hb_on_shortcut *sc;
	int rc;

	if (a != NULL)
		return attr_error(err, a, "CALL is not allowed in a state hook");
	a = single(t, "RESOURCE");
	if (a == NULL)
		return hb_error_set(err, -HB_EINVAL, "RESOURCE is required for a state hook");
	if (upper_shown(a->value, name, sizeof(name)) && res != NULL)
		r = hb_resources_find(res, name);
	if (r == NULL) {
		for (size_t i = 0; res != NULL && i < res->n; i++)
			list_add(list, sizeof(list), res->r[i].name);
		return attr_error(err, a, "RESOURCE: '%s' is not a known object (known: %s)",
				  shown(a->value, buf, sizeof(buf)), list[0] ? list : "none");
	}
	rc = hb_template_set(t, "RESOURCE", r->name, err);
	if (rc < 0)
		return rc;

	a = single(t, "ON");
	if (a == NULL || a->value[0] == '\0' || strcasecmp(a->value, "CUSTOM") == 0) {
		rc = check_custom(t, r, err);
		if (rc == 0)
			hb_template_remove(t, "ON");
		return rc;
	}
	sc = upper_shown(a->value, on, sizeof(on)) ? hb_resource_on(r, on) : NULL;
	if (sc == NULL) {
		list_add(list, sizeof(list), "CUSTOM");
		for (size_t i = 0; i < r->non; i++)
			list_add(list, sizeof(list), r->on[i].name);
		return attr_error(err, a, "ON: '%s' is not a shortcut of %s (valid: %s)",
				  shown(a->value, buf, sizeof(buf)), r->name, list);
	}
	rc = check_agrees(single(t, "STATE"), sc->state, sc->name, err);
	if (rc == 0)
		rc = check_agrees(single(t, "LCM_STATE"), sc->lcm, sc->name, err);
	if (rc == 0)
		rc = hb_template_set(t, "STATE", sc->state, err);
	if (rc == 0)
		rc = set_or_remove(t, "LCM_STATE", sc->lcm, err);
	if (rc == 0)
		hb_template_remove(t, "ON");
	return rc;
}

/* Checks that an api hook in t has a valid CALL and none of the state
 * attributes. */
static int check_api_trigger(const hb_template *t, hb_error *err)
{
	for (size_t i = 0; i < COUNT(state_attrs); i++) {
		const hb_tattr *a = hb_template_find(t, state_attrs[i]);

		if (a != NULL)
			return attr_error(err, a, "%s is not allowed in an api hook", a->name);
	}
	return check_call(single(t, "CALL"), err);
}

/* Returns a new copy of the value of single attribute name of t, or of ""
 * when t has none; NULL when out of memory. */
static char *dup_value(const hb_template *t, const char *name)
{
	const char *v = hb_template_get(t, name);

	return strdup(v != NULL ? v : "");
}

/* Sets d->prefix to "<head><pattern><tail>" cut before the first '*' of
 * pattern (the shortest exact prefix that covers it) and notes whether
 * there was one. */
static int set_prefix(hb_hookdef *d, const char *head, const char *tail)
{
	const char *star = strchr(head, '*');
	int n;

	if (star == NULL) {
		n = asprintf(&d->prefix, "%s%s", head, tail);
	} else {
		d->wildcard = true;
		n = asprintf(&d->prefix, "%.*s", (int)(star - head), head);
	}
	if (n < 0)
		d->prefix = NULL;
	return n < 0 ? -1 : 0;
}

/* Fills the fields of d from its checked template d->tmpl and type. */
static int fill(hb_hookdef *d, hb_error *err)
{
	const char *args = hb_template_get(d->tmpl, "ARGUMENTS");
	hb_autofree char *head = NULL;
	int n;

	d->command = dup_value(d->tmpl, "COMMAND");
	d->arguments = args != NULL ? strdup(args) : NULL;
	if (d->command == NULL || (args != NULL && d->arguments == NULL))
		return oom(err);
	if (d->type == HB_HOOK_API) {
		d->call = dup_value(d->tmpl, "CALL");
		if (d->call == NULL)
			return oom(err);
		if (asprintf(&head, "EVENT API %s", d->call) < 0) {
			head = NULL;
			return oom(err);
		}
		n = set_prefix(d, head, " ");
	} else {
		d->resource = dup_value(d->tmpl, "RESOURCE");
		d->state = dup_value(d->tmpl, "STATE");
		d->lcm_state = dup_value(d->tmpl, "LCM_STATE");
		if (d->resource == NULL || d->state == NULL || d->lcm_state == NULL)
			return oom(err);
		if (asprintf(&head, "EVENT STATE %s/%s/%s", d->resource, d->state, d->lcm_state) < 0) {
			head = NULL;
			return oom(err);
		}
		n = set_prefix(d, head, "/");
	}
	if (n < 0)
		return oom(err);
	return 0;
}

/* Reads FILTER from attribute a (NULL or empty: no filter) into d,
 * compiling it. */
static int read_filter(const hb_tattr *a, hb_hookdef *d, hb_error *err)
{
	int rc;

	if (a == NULL || a->value[0] == '\0')
		return 0;
	d->filter = strdup(a->value);
	if (d->filter == NULL)
		return oom(err);
	rc = hb_filter_compile(a->value, &d->filter_comp, err);
	if (rc == -HB_EINVAL) {
		char what[HB_ERROR_MAX];

		memcpy(what, err->msg, sizeof(what));
		what[sizeof(what) - 1] = '\0';
		return attr_error(err, a, "FILTER: %s", what);
	}
	return rc;
}

/* Reads RETRIES, RETRY_DELAY, RETRY_ON, CONCURRENCY and CONCURRENCY_POLICY
 * of t into d. */
static int read_extensions(const hb_template *t, hb_hookdef *d, hb_error *err)
{
	char buf[MSG_VALUE_MAX + 4];
	const hb_tattr *a;
	int rc;

	rc = read_count(single(t, "RETRIES"), "retries", &d->retries, err);
	if (rc == 0 && d->retries > HB_RETRIES_MAX)
		rc = attr_error(err, single(t, "RETRIES"), "RETRIES: at most %d", HB_RETRIES_MAX);
	if (rc == 0)
		rc = read_count(single(t, "RETRY_DELAY"), "seconds", &d->retry_delay, err);
	if (rc == 0 && d->retry_delay > HB_RETRY_DELAY_CAP)
		rc = attr_error(err, single(t, "RETRY_DELAY"), "RETRY_DELAY: at most %d seconds", HB_RETRY_DELAY_CAP);
	if (rc < 0)
		return rc;
	a = single(t, "RETRY_ON");
	if (a != NULL) {
		if (strcasecmp(a->value, "failure") == 0)
			d->retry_on = HB_RETRY_ON_FAILURE;
		else if (strcasecmp(a->value, "timeout") == 0)
			d->retry_on = HB_RETRY_ON_TIMEOUT;
		else if (strcasecmp(a->value, "both") == 0)
			d->retry_on = HB_RETRY_ON_BOTH;
		else
			return attr_error(err, a, "RETRY_ON: '%s' is not failure, timeout or both",
					  shown(a->value, buf, sizeof(buf)));
	}
	a = single(t, "CONCURRENCY");
	rc = read_count(a, "executions", &d->concurrency, err);
	if (rc == 0 && a != NULL && (d->concurrency < 1 || d->concurrency > HB_HOOK_CONCURRENCY_MAX))
		rc = attr_error(err, a, "CONCURRENCY: '%s' is not between 1 and %d", shown(a->value, buf, sizeof(buf)),
				HB_HOOK_CONCURRENCY_MAX);
	if (rc < 0)
		return rc;
	a = single(t, "CONCURRENCY_POLICY");
	if (a != NULL) {
		if (strcasecmp(a->value, "skip") == 0)
			d->concurrency_skip = true;
		else if (strcasecmp(a->value, "delay") != 0)
			return attr_error(err, a, "CONCURRENCY_POLICY: '%s' is not delay or skip",
					  shown(a->value, buf, sizeof(buf)));
	}
	return 0;
}

/*
 * Checks template t, which this function takes (it is freed on error or
 * becomes the definition's), and builds the definition in *out.
 */
static int build(hb_template *t, const hb_resources *res, hb_hookdef **out, hb_error *err)
{
	hb_hookdef *d = calloc(1, sizeof(*d));
	const hb_tattr *a;
	char buf[128];
	const char *problem;
	int rc;

	if (d == NULL) {
		hb_template_free(t);
		return oom(err);
	}
	d->tmpl = t;
	d->timeout = -1;
	d->log_retention = -1;
	d->retry_delay = HB_RETRY_DELAY_DEFAULT;
	d->concurrency = -1;

	rc = check_structure(t, err);
	if (rc < 0)
		goto fail;

	a = single(t, "NAME");
	if (a == NULL) {
		rc = hb_error_set(err, -HB_EINVAL, "NAME is required");
		goto fail;
	}
	problem = name_problem(a->value, buf, sizeof(buf));
	if (problem != NULL) {
		rc = attr_error(err, a, "NAME %s", problem);
		goto fail;
	}
	d->name = strdup(a->value);
	if (d->name == NULL) {
		rc = oom(err);
		goto fail;
	}

	a = single(t, "TYPE");
	if (a == NULL) {
		rc = hb_error_set(err, -HB_EINVAL, "TYPE is required (api or state)");
		goto fail;
	}
	if (strcasecmp(a->value, "api") == 0) {
		d->type = HB_HOOK_API;
	} else if (strcasecmp(a->value, "state") == 0) {
		d->type = HB_HOOK_STATE;
	} else {
		char v[MSG_VALUE_MAX + 4];

		rc = attr_error(err, a, "TYPE: '%s' is not api or state", shown(a->value, v, sizeof(v)));
		goto fail;
	}

	rc = check_command(single(t, "COMMAND"), err);
	if (rc == 0)
		rc = check_arguments(single(t, "ARGUMENTS"), err);
	if (rc == 0)
		rc = read_bool(single(t, "ARGUMENTS_STDIN"), &d->arguments_stdin, err);
	if (rc == 0)
		rc = read_count(single(t, "TIMEOUT"), "seconds", &d->timeout, err);
	if (rc == 0)
		rc = read_bool(single(t, "REMOTE"), &d->remote, err);
	if (rc == 0)
		rc = read_bool(single(t, "BLOCKING"), &d->blocking, err);
	if (rc == 0)
		rc = read_count(single(t, "LOG_RETENTION"), "records", &d->log_retention, err);
	if (rc == 0 && d->remote && d->type == HB_HOOK_API)
		rc = attr_error(err, single(t, "REMOTE"),
				"REMOTE = yes is for state hooks: API events carry no REMOTE_HOST");
	if (rc == 0)
		rc = read_extensions(t, d, err);
	if (rc == 0)
		rc = read_filter(single(t, "FILTER"), d, err);
	if (rc == 0)
		rc = d->type == HB_HOOK_API ? check_api_trigger(t, err) : check_state_trigger(t, res, err);
	if (rc < 0)
		goto fail;

	hb_template_remove(t, "NAME");
	hb_template_remove(t, "TYPE");
	rc = fill(d, err);
	if (rc < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	hb_hookdef_free(d);
	return rc;
}

int hb_hookdef_new(const hb_template *t, const hb_resources *res, hb_hookdef **out, hb_error *err)
{
	hb_template *copy = hb_template_new();
	int rc;

	if (copy == NULL)
		return oom(err);
	rc = hb_template_merge(copy, t, err);
	if (rc < 0) {
		hb_template_free(copy);
		return rc;
	}
	return build(copy, res, out, err);
}

void hb_hookdef_free(hb_hookdef *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->command);
	free(d->arguments);
	free(d->call);
	free(d->resource);
	free(d->state);
	free(d->lcm_state);
	free(d->prefix);
	free(d->filter);
	hb_filter_free(d->filter_comp);
	hb_template_free(d->tmpl);
	free(d);
}

/* Refuses attributes named name in t (the merged template of an update)
 * unless they are single and equal to current (compared in any case when
 * any_case), then removes them all.  how tells what to do instead. */
static int keep_fixed(hb_template *t, const char *name, const char *current, bool any_case,
		      const char *how, hb_error *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const hb_tattr *a = &t->attrs[i];

		if (strcmp(a->name, name) != 0)
			continue;
		if (a->value == NULL ||
		    (any_case ? strcasecmp(a->value, current) : strcmp(a->value, current)) != 0)
			return attr_error(err, a, "%s cannot be changed by update; %s", name, how);
	}
	hb_template_remove(t, name);
	return hb_template_add(t, name, current, err);
}

int hb_hookdef_update(const hb_hookdef *old, const hb_template *changes, bool append,
		      const hb_resources *res, hb_hookdef **out, hb_error *err)
{
	hb_template *t = hb_template_new();
	int rc = 0;

	if (t == NULL)
		return oom(err);
	if (append) {
		rc = hb_template_merge(t, old->tmpl, err);
		/* Lines in messages refer to the changes the user just wrote. */
		for (size_t i = 0; i < t->n; i++)
			t->attrs[i].line = t->attrs[i].col = 0;
		for (size_t i = 0; rc == 0 && i < changes->n; i++)
			hb_template_remove(t, changes->attrs[i].name);
		if (hb_template_find(changes, "ON") != NULL) {
			hb_template_remove(t, "STATE");
			hb_template_remove(t, "LCM_STATE");
		}
	}
	if (rc == 0)
		rc = hb_template_merge(t, changes, err);
	if (rc == 0)
		rc = keep_fixed(t, "NAME", old->name, false, "use rename", err);
	if (rc == 0)
		rc = keep_fixed(t, "TYPE", hb_hook_type_str(old->type), true,
				"delete the hook and create it again", err);
	if (rc < 0) {
		hb_template_free(t);
		return rc;
	}
	return build(t, res, out, err);
}

/* Returns a new copy of s, or NULL for NULL; sets *failed when out of memory. */
static char *dup_or_null(const char *s, bool *failed)
{
	char *c;

	if (s == NULL)
		return NULL;
	c = strdup(s);
	if (c == NULL)
		*failed = true;
	return c;
}

int hb_hookdef_rename(const hb_hookdef *old, const char *name, hb_hookdef **out, hb_error *err)
{
	hb_hookdef *d;
	bool failed = false;
	int rc = hb_hookdef_check_name(name, err);

	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return oom(err);
	*d = *old;
	d->name = dup_or_null(name, &failed);
	d->command = dup_or_null(old->command, &failed);
	d->arguments = dup_or_null(old->arguments, &failed);
	d->call = dup_or_null(old->call, &failed);
	d->resource = dup_or_null(old->resource, &failed);
	d->state = dup_or_null(old->state, &failed);
	d->lcm_state = dup_or_null(old->lcm_state, &failed);
	d->prefix = dup_or_null(old->prefix, &failed);
	d->filter = dup_or_null(old->filter, &failed);
	d->filter_comp = NULL;
	d->tmpl = hb_template_new();
	if (failed || d->tmpl == NULL || hb_template_merge(d->tmpl, old->tmpl, err) < 0) {
		hb_hookdef_free(d);
		return oom(err);
	}
	if (d->filter != NULL && (rc = hb_filter_compile(d->filter, &d->filter_comp, err)) < 0) {
		hb_hookdef_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

const char *hb_hookdef_prefix(const hb_hookdef *d)
{
	return d->prefix;
}

bool hb_hookdef_glob(const char *pattern, const char *s, size_t len)
{
	const char *star = NULL;   /* the last '*' seen, and where its run ends now */
	size_t i = 0, from = 0;

	while (i < len || *pattern != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			from = i;
			continue;
		}
		if (i < len && *pattern != '\0' && *pattern == s[i]) {
			pattern++;
			i++;
			continue;
		}
		/* Mismatch: the last '*' takes one more byte, if it may. */
		if (star == NULL || from >= len || s[from] == '/' || is_blank((unsigned char)s[from]))
			return false;
		pattern = star + 1;
		i = ++from;
	}
	return true;
}

/* Whether the len bytes at id are "<id> " with a non-empty id free of '/',
 * blanks and control bytes. */
static bool state_id(const char *id, size_t len)
{
	if (len < 2 || id[len - 1] != ' ')
		return false;
	for (size_t i = 0; i < len - 1; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c == '/' || is_blank(c) || is_control(c))
			return false;
	}
	return true;
}

/* Matches a state key after "EVENT STATE " (rest, len bytes) against d's
 * RESOURCE, STATE and LCM_STATE patterns. */
static bool state_matches(const hb_hookdef *d, const char *rest, size_t len)
{
	const char *end = rest + len, *seg[3];
	size_t seglen[3];
	const char *p = rest;

	for (int k = 0; k < 3; k++) {
		const char *slash = memchr(p, '/', (size_t)(end - p));

		if (slash == NULL)
			return false;
		seg[k] = p;
		seglen[k] = (size_t)(slash - p);
		p = slash + 1;
	}
	return seglen[0] == strlen(d->resource) && memcmp(seg[0], d->resource, seglen[0]) == 0 &&
	       hb_hookdef_glob(d->state, seg[1], seglen[1]) && hb_hookdef_glob(d->lcm_state, seg[2], seglen[2]) &&
	       state_id(p, (size_t)(end - p));
}

bool hb_hookdef_matches(const hb_hookdef *d, const char *key, size_t len)
{
	size_t plen = strlen(d->prefix);

	if (key == NULL || len <= plen || memcmp(key, d->prefix, plen) != 0)
		return false;
	if (!d->wildcard) {
		if (d->type == HB_HOOK_API)
			return len == plen + 1 && (key[plen] == '0' || key[plen] == '1');
		return state_id(key + plen, len - plen);
	}
	if (d->type == HB_HOOK_API) {
		/* "EVENT API <call> 0|1": the call is what lies between. */
		static const char head[] = "EVENT API ";
		size_t hlen = sizeof(head) - 1;

		if (len < hlen + 3 || key[len - 2] != ' ' || (key[len - 1] != '0' && key[len - 1] != '1'))
			return false;
		return hb_hookdef_glob(d->call, key + hlen, len - hlen - 2);
	}
	return state_matches(d, key + strlen("EVENT STATE "), len - strlen("EVENT STATE "));
}

char *hb_hookdef_template_str(const hb_hookdef *d)
{
	return hb_template_to_str(d->tmpl);
}
