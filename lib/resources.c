/* resources.c -- reading resources.conf: the objects, their states and LCM states, and ON shortcuts. */
#include "resources.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "fsutil.h"
#include "template.h"

/* Longest piece of the file quoted in an error message. */
#define MSG_MAX 128

/* Bounds that keep checking a file linear in practice: objects in a file,
 * and states, LCM states or ON entries of one object. */
#define RESOURCES_MAX 1024
#define LIST_MAX 1024

/* The form of an ON entry, for messages. */
#define ON_FORM "SHORTCUT:STATE/LCM_STATE, or SHORTCUT:STATE without LCM states"

/* Whether s is an object name as keys carry it: [A-Z][A-Z0-9_]*. */
static bool object_name_ok(const char *s)
{
	if (*s < 'A' || *s > 'Z')
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Whether s is an XML element name hookbus accepts as a document root:
 * a letter or '_', then letters, digits, '_', '-' or '.'. */
static bool root_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* Fills err with "line L, column C: " (where the RESOURCE a starts) and the
 * formatted text; returns -HB_EINVAL. */
static int __attribute__((format(printf, 3, 4)))
at_error(hb_error *err, const hb_tattr *a, const char *fmt, ...)
{
	char what[HB_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return hb_error_set(err, -HB_EINVAL, "line %u, column %u: %s", a->line, a->col, what);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Frees what res owns and leaves it empty. */
static void resource_clear(hb_resource *res)
{
	free(res->name);
	free(res->root);
	strv_free(res->states, res->nstates);
	strv_free(res->lcm_states, res->nlcm);
	for (size_t i = 0; i < res->non; i++) {
		free(res->on[i].name);
		free(res->on[i].state);
		free(res->on[i].lcm);
	}
	free(res->on);
	memset(res, 0, sizeof(*res));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Splits s on blanks and newlines into a new array of new strings *out of
 * *n words (NULL and 0 for none); the caller frees it with strv_free(). */
static int split_words(const char *s, char ***out, size_t *n, hb_error *err)
{
	size_t count = 0, i = 0;
	char **v;

	for (const char *p = s; *p; p++)
		if (!is_space(*p) && (p == s || is_space(p[-1])))
			count++;
	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	v = calloc(count, sizeof(*v));
	if (v == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	while (*s) {
		size_t len;

		while (is_space(*s))
			s++;
		for (len = 0; s[len] && !is_space(s[len]); len++)
			;
		if (len == 0)
			break;
		v[i] = strndup(s, len);
		if (v[i] == NULL) {
			strv_free(v, i);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		i++;
		s += len;
	}
	*out = v;
	*n = i;
	return 0;
}

/* Reads a blank-separated list of state names from value into *out and *n,
 * checking each is a valid name and listed once; what names the list in
 * messages ("STATES", "LCM_STATES"). */
static int read_states(const hb_tattr *a, const char *object, const char *what, const char *value,
		       char ***out, size_t *n, hb_error *err)
{
	char **v = NULL;
	size_t count = 0;
	int rc = split_words(value, &v, &count, err);

	if (rc < 0)
		return rc;
	if (count > LIST_MAX)
		rc = hb_error_set(err, -HB_ETOOBIG, "line %u, column %u: RESOURCE %s: %s lists more than %d entries",
				  a->line, a->col, object, what, LIST_MAX);
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (!hb_template_name_valid(v[i]))
			rc = at_error(err, a, "RESOURCE %s: %s entry '%.*s' is not a valid state name",
				      object, what, MSG_MAX, v[i]);
		for (size_t j = 0; j < i && rc == 0; j++)
			if (strcmp(v[i], v[j]) == 0)
				rc = at_error(err, a, "RESOURCE %s: %s lists %.*s twice", object, what,
					      MSG_MAX, v[i]);
	}
	if (rc < 0) {
		strv_free(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/*
 * Reads one ON entry, SHORTCUT:STATE/LCM_STATE (or SHORTCUT:STATE and
 * SHORTCUT:STATE/ for objects without LCM states), into *on, checking that
 * it names states res has.  CUSTOM is reserved to hem.
 */
static int read_on(const hb_tattr *a, const hb_resource *res, const char *entry, hb_on_shortcut *on,
		   hb_error *err)
{
	const char *colon = strchr(entry, ':');
	const char *slash;
	hb_autofree char *name = NULL;
	hb_autofree char *state = NULL;
	hb_autofree char *lcm = NULL;

	slash = colon ? strchr(colon + 1, '/') : NULL;
	if (colon == NULL || colon == entry)
		return at_error(err, a, "RESOURCE %s: malformed ON entry '%.*s' (expected %s)",
				res->name, MSG_MAX, entry, ON_FORM);
	name = strndup(entry, (size_t)(colon - entry));
	state = slash ? strndup(colon + 1, (size_t)(slash - colon - 1)) : strdup(colon + 1);
	lcm = strdup(slash ? slash + 1 : "");
	if (name == NULL || state == NULL || lcm == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (!hb_template_name_valid(name) || state[0] == '\0' || strchr(lcm, '/') != NULL)
		return at_error(err, a, "RESOURCE %s: malformed ON entry '%.*s' (expected %s)",
				res->name, MSG_MAX, entry, ON_FORM);
	for (char *s = name; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	if (strcmp(name, "CUSTOM") == 0)
		return at_error(err, a, "RESOURCE %s: ON shortcut CUSTOM is reserved (it takes STATE and "
				"LCM_STATE from the hook)", res->name);
	if (!in_list(res->states, res->nstates, state))
		return at_error(err, a, "RESOURCE %s: ON entry '%.*s' names state %.*s, which %s does not have",
				res->name, MSG_MAX, entry, MSG_MAX, state, res->name);
	if (lcm[0] == '\0' && res->nlcm > 0)
		return at_error(err, a, "RESOURCE %s: ON entry '%.*s' needs an LCM state (%s has LCM states)",
				res->name, MSG_MAX, entry, res->name);
	if (lcm[0] != '\0' && !in_list(res->lcm_states, res->nlcm, lcm))
		return at_error(err, a,
				"RESOURCE %s: ON entry '%.*s' names LCM state %.*s, which %s does not have",
				res->name, MSG_MAX, entry, MSG_MAX, lcm, res->name);
	for (size_t i = 0; i < res->non; i++)
		if (strcmp(res->on[i].name, name) == 0)
			return at_error(err, a, "RESOURCE %s: ON shortcut %s given twice", res->name, name);
	on->name = hb_steal(&name);
	on->state = hb_steal(&state);
	on->lcm = hb_steal(&lcm);
	return 0;
}

/* Reads the ON list of res from value. */
static int read_on_list(const hb_tattr *a, hb_resource *res, const char *value, hb_error *err)
{
	char **words = NULL;
	size_t n = 0;
	int rc = split_words(value, &words, &n, err);

	if (rc < 0)
		return rc;
	if (n > LIST_MAX) {
		rc = hb_error_set(err, -HB_ETOOBIG, "line %u, column %u: RESOURCE %s: ON lists more than %d entries",
				  a->line, a->col, res->name, LIST_MAX);
	} else if (n > 0) {
		res->on = calloc(n, sizeof(*res->on));
		if (res->on == NULL)
			rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = read_on(a, res, words[i], &res->on[res->non], err);
		if (rc == 0)
			res->non++;
	}
	strv_free(words, n);
	return rc;
}

/* The keys a RESOURCE vector may hold. */
static const char *const resource_keys[] = { "NAME", "ROOT", "STATES", "LCM_STATES", "ON" };

/* Builds *res from the RESOURCE vector a; res is left empty on error. */
static int resource_build(const hb_tattr *a, hb_resource *res, hb_error *err)
{
	const char *name = hb_tattr_vec_get(a, "NAME");
	const char *root = hb_tattr_vec_get(a, "ROOT");
	const char *states = hb_tattr_vec_get(a, "STATES");
	const char *lcm = hb_tattr_vec_get(a, "LCM_STATES");
	const char *on = hb_tattr_vec_get(a, "ON");
	int rc;

	if (name == NULL || name[0] == '\0')
		return at_error(err, a, "RESOURCE without NAME");
	if (!object_name_ok(name))
		return at_error(err, a, "RESOURCE NAME '%.*s' is not an upper-case name ([A-Z][A-Z0-9_]*)",
				MSG_MAX, name);
	for (size_t i = 0; i < a->nvec; i++) {
		size_t k, nk = sizeof(resource_keys) / sizeof(resource_keys[0]);

		for (k = 0; k < nk; k++)
			if (strcmp(a->vec[i].name, resource_keys[k]) == 0)
				break;
		if (k == nk)
			return at_error(err, a, "RESOURCE %s: unknown key %.*s (expected NAME, ROOT, STATES, "
					"LCM_STATES or ON)", name, MSG_MAX, a->vec[i].name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->vec[i].name, a->vec[j].name) == 0)
				return at_error(err, a, "RESOURCE %s: %s given twice", name, a->vec[i].name);
	}
	if (root != NULL && !root_name_ok(root))
		return at_error(err, a, "RESOURCE %s: ROOT '%.*s' is not an element name",
				name, MSG_MAX, root);
	res->name = strdup(name);
	res->root = strdup(root != NULL ? root : name);
	if (res->name == NULL || res->root == NULL) {
		resource_clear(res);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	rc = read_states(a, name, "STATES", states ? states : "", &res->states, &res->nstates, err);
	if (rc == 0 && res->nstates == 0)
		rc = at_error(err, a, "RESOURCE %s has no STATES", name);
	if (rc == 0 && lcm != NULL)
		rc = read_states(a, name, "LCM_STATES", lcm, &res->lcm_states, &res->nlcm, err);
	if (rc == 0 && on != NULL)
		rc = read_on_list(a, res, on, err);
	if (rc < 0)
		resource_clear(res);
	return rc;
}

/* Returns the line of the first RESOURCE before index i of t named name. */
static unsigned first_line(const hb_template *t, size_t i, const char *name)
{
	for (size_t j = 0; j < i; j++) {
		const char *n = t->attrs[j].value == NULL ? hb_tattr_vec_get(&t->attrs[j], "NAME") : NULL;

		if (n != NULL && strcmp(n, name) == 0)
			return t->attrs[j].line;
	}
	return 0;
}

int hb_resources_parse(const char *text, size_t len, hb_resources **out, hb_error *err)
{
	hb_template *t = NULL;
	hb_resources *r;
	int rc = hb_template_parse(text, len, &t, err);

	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (r == NULL || (t->n > 0 && (r->r = calloc(t->n, sizeof(*r->r))) == NULL)) {
		free(r);
		hb_template_free(t);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->n && rc == 0; i++) {
		const hb_tattr *a = &t->attrs[i];

		if (i == RESOURCES_MAX)
			rc = hb_error_set(err, -HB_ETOOBIG, "line %u, column %u: more than %d objects",
					  a->line, a->col, RESOURCES_MAX);
		else if (strcmp(a->name, "RESOURCE") != 0)
			rc = at_error(err, a, "unknown attribute %.*s (resources.conf holds RESOURCE vectors)",
				      MSG_MAX, a->name);
		else if (a->value != NULL)
			rc = at_error(err, a, "RESOURCE must be a vector [ NAME = ..., ... ]");
		else
			rc = resource_build(a, &r->r[r->n], err);
		if (rc == 0 && hb_resources_find(r, r->r[r->n].name) != NULL) {
			rc = at_error(err, a, "RESOURCE %s defined twice (first at line %u)",
				      r->r[r->n].name, first_line(t, i, r->r[r->n].name));
			resource_clear(&r->r[r->n]);
		}
		if (rc == 0)
			r->n++;
	}
	hb_template_free(t);
	if (rc < 0) {
		hb_resources_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int hb_resources_load(const char *path, hb_resources **out, hb_error *err)
{
	hb_autofree char *text = NULL;
	size_t len = 0;
	int rc = hb_file_read(path, HB_TEMPLATE_MAX_SIZE, &text, &len, err);

	if (rc < 0)
		return rc;
	rc = hb_resources_parse(text, len, out, err);
	if (rc < 0)
		return hb_error_prefix(err, "%s", path);
	return 0;
}

void hb_resources_free(hb_resources *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++)
		resource_clear(&r->r[i]);
	free(r->r);
	free(r);
}

const hb_resource *hb_resources_find(const hb_resources *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->r[i].name, name) == 0)
			return &r->r[i];
	return NULL;
}

bool hb_resource_has_state(const hb_resource *res, const char *s)
{
	return in_list(res->states, res->nstates, s);
}

bool hb_resource_has_lcm(const hb_resource *res, const char *s)
{
	return in_list(res->lcm_states, res->nlcm, s);
}

const hb_on_shortcut *hb_resource_on(const hb_resource *res, const char *on)
{
	for (size_t i = 0; i < res->non; i++)
		if (strcasecmp(res->on[i].name, on) == 0)
			return &res->on[i];
	return NULL;
}
