/* config.c -- config files in template syntax, checked against known keys, with --key value overrides. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

/* Longest key or value quoted in an error message. */
#define MSG_MAX 128

struct hb_config {
	const hb_config_key *keys;  /* the caller's table, NULL-name-terminated */
	size_t nkeys;
	hb_template *t;             /* the file's values, then the overrides */
	bool *overridden;           /* per key: a flag has replaced the file's values */
};

/* Returns the index of key name (any case) in c's table, or -1. */
static long key_index(const hb_config *c, const char *name)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (strcasecmp(c->keys[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Checks every attribute of c->t against the key table: known, single and
 * not repeated unless the key may repeat.  Messages name the line. */
static int check_template(const hb_config *c, hb_error *err)
{
	const hb_template *t = c->t;

	for (size_t i = 0; i < t->n; i++) {
		const hb_tattr *a = &t->attrs[i];
		long k = key_index(c, a->name);

		if (k < 0)
			return hb_error_set(err, -HB_EINVAL, "line %u, column %u: unknown key %.*s",
					    a->line, a->col, MSG_MAX, a->name);
		if (a->value == NULL)
			return hb_error_set(err, -HB_EINVAL,
					    "line %u, column %u: key %.*s takes a single value, not a vector",
					    a->line, a->col, MSG_MAX, a->name);
		if (c->keys[k].repeat)
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->attrs[j].name, a->name) == 0)
				return hb_error_set(err, -HB_EINVAL,
						    "line %u, column %u: key %.*s may not repeat (first given at line %u)",
						    a->line, a->col, MSG_MAX, a->name, t->attrs[j].line);
	}
	return 0;
}

int hb_config_load(const char *path, const hb_config_key *keys, hb_config **out, hb_error *err)
{
	hb_config *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	c->keys = keys;
	while (keys[c->nkeys].name != NULL)
		c->nkeys++;
	c->overridden = calloc(c->nkeys ? c->nkeys : 1, sizeof(*c->overridden));
	if (c->overridden == NULL) {
		hb_config_free(c);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (path != NULL) {
		hb_autofree char *text = NULL;
		size_t len = 0;

		rc = hb_file_read(path, HB_TEMPLATE_MAX_SIZE, &text, &len, err);
		if (rc == 0) {
			rc = hb_template_parse(text, len, &c->t, err);
			if (rc == 0)
				rc = check_template(c, err);
			if (rc < 0)
				hb_error_prefix(err, "%s", path);
		}
		if (rc < 0) {
			hb_config_free(c);
			return rc;
		}
	} else {
		c->t = hb_template_new();
		if (c->t == NULL) {
			hb_config_free(c);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
	}
	*out = c;
	return 0;
}

/*
 * Turns "--some-key" into SOME_KEY and applies value: the first override of a
 * key replaces whatever the file gave it, a later one appends when the key
 * may repeat and is an error otherwise (a second value would be ignored).
 */
int hb_config_override(hb_config *c, const char *flag, const char *value, hb_error *err)
{
	const char *bare = flag;
	hb_autofree char *name = NULL;
	long k;
	int rc;

	if (strncmp(bare, "--", 2) == 0)
		bare += 2;
	name = strdup(bare);
	if (name == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (char *s = name; *s; s++)
		*s = *s == '-' ? '_' : *s;
	k = hb_template_name_valid(name) ? key_index(c, name) : -1;
	if (k < 0)
		return hb_error_set(err, -HB_EINVAL, "unknown option --%.*s", MSG_MAX, bare);
	if (value == NULL)
		return hb_error_set(err, -HB_EINVAL, "option --%.*s needs a value", MSG_MAX, bare);
	if (!c->overridden[k]) {
		rc = hb_template_set(c->t, c->keys[k].name, value, err);
	} else if (c->keys[k].repeat) {
		rc = hb_template_add(c->t, c->keys[k].name, value, err);
	} else {
		return hb_error_set(err, -HB_EINVAL, "option --%.*s given more than once", MSG_MAX, bare);
	}
	if (rc < 0)
		return hb_error_prefix(err, "option --%.*s", MSG_MAX, bare);
	c->overridden[k] = true;
	return 0;
}

void hb_config_free(hb_config *c)
{
	if (c == NULL)
		return;
	hb_template_free(c->t);
	free(c->overridden);
	free(c);
}

/* Returns the default of key (any case), or NULL when it has none or is
 * unknown. */
static const char *key_default(const hb_config *c, const char *key)
{
	long k = key_index(c, key);

	return k < 0 ? NULL : c->keys[k].def;
}

const char *hb_config_str(const hb_config *c, const char *key)
{
	const char *v = hb_template_get(c->t, key);

	return v != NULL ? v : key_default(c, key);
}

size_t hb_config_count(const hb_config *c, const char *key)
{
	size_t n = hb_template_count(c->t, key);

	if (n == 0 && key_default(c, key) != NULL)
		return 1;
	return n;
}

const char *hb_config_nth(const hb_config *c, const char *key, size_t i)
{
	size_t seen = 0;

	for (size_t j = 0; j < c->t->n; j++) {
		const hb_tattr *a = &c->t->attrs[j];

		if (a->value != NULL && strcasecmp(a->name, key) == 0 && seen++ == i)
			return a->value;
	}
	if (seen == 0 && i == 0)
		return key_default(c, key);
	return NULL;
}

/* Parses s as an optionally signed decimal integer with an optional K, M or
 * G suffix (powers of 1024).  Returns 0 and *out, -1 when s is not such a
 * number, or -2 when it does not fit in an int64_t. */
static int parse_int(const char *s, int64_t *out)
{
	uint64_t mag = 0, mult = 1, limit;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (mag > (UINT64_MAX - d) / 10)
			return -2;
		mag = mag * 10 + d;
	}
	switch (*s) {
	case 'K': case 'k':
		mult = 1024;
		break;
	case 'M': case 'm':
		mult = 1024 * 1024;
		break;
	case 'G': case 'g':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	if (mult > 1)
		s++;
	if (*s != '\0')
		return -1;
	if (mag > UINT64_MAX / mult)
		return -2;
	mag *= mult;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (mag > limit)
		return -2;
	if (neg)
		*out = mag == limit ? INT64_MIN : -(int64_t)mag;
	else
		*out = (int64_t)mag;
	return 0;
}

int hb_config_int(const hb_config *c, const char *key, int64_t min, int64_t max,
		  int64_t *out, hb_error *err)
{
	const char *v = hb_config_str(c, key);
	int64_t n = 0;
	int rc;

	if (v == NULL)
		return hb_error_set(err, -HB_ENOENT, "%.*s is not set", MSG_MAX, key);
	rc = parse_int(v, &n);
	if (rc == -1)
		return hb_error_set(err, -HB_EINVAL, "%.*s = '%.*s' is not a whole number",
				    MSG_MAX, key, MSG_MAX, v);
	if (rc == -2 || n < min || n > max)
		return hb_error_set(err, -HB_EINVAL,
				    "%.*s = %.*s is out of range (%lld to %lld)", MSG_MAX, key,
				    MSG_MAX, v, (long long)min, (long long)max);
	*out = n;
	return 0;
}

int hb_config_bool(const hb_config *c, const char *key, bool *out, hb_error *err)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };
	const char *v = hb_config_str(c, key);

	if (v == NULL)
		return hb_error_set(err, -HB_ENOENT, "%.*s is not set", MSG_MAX, key);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return hb_error_set(err, -HB_EINVAL, "%.*s = '%.*s' is not a boolean (yes, no, true, false, 1 or 0)",
			    MSG_MAX, key, MSG_MAX, v);
}

int hb_config_from_argv(int argc, char **argv, const hb_config_key *keys, const char *default_path,
			hb_config **out, bool *check, hb_error *err)
{
	const char *path = NULL;
	hb_config *c = NULL;
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return hb_error_set(err, -HB_EINVAL, "%s needs a file", argv[i]);
			path = argv[++i];
		}
	if (path == NULL && default_path != NULL && access(default_path, R_OK) == 0)
		path = default_path;
	rc = hb_config_load(path, keys, &c, err);
	for (int i = 1; i < argc && rc == 0; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			i++;
		else if (strcmp(argv[i], "--check-config") == 0 && check != NULL)
			*check = true;
		else if (strncmp(argv[i], "--", 2) == 0 && i + 1 < argc) {
			rc = hb_config_override(c, argv[i], argv[i + 1], err);
			i++;
		}
		else
			rc = hb_error_set(err, -HB_EINVAL, "unexpected argument '%s'", argv[i]);
	}
	if (rc < 0) {
		hb_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
