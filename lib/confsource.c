/* confsource.c -- re-reading a daemon's configuration from the command line it started with. */
#include "confsource.h"

#include <stddef.h>
#include <string.h>

#include "log.h"

static struct {
	int argc;
	char **argv;
	const hb_config_key *keys;
	const char *default_path;
} g_src;

void hb_config_source_set(int argc, char **argv, const hb_config_key *keys, const char *default_path)
{
	g_src.argc = argc;
	g_src.argv = argv;
	g_src.keys = keys;
	g_src.default_path = default_path;
}

int hb_config_source_load(hb_config **out, hb_error *err)
{
	bool check = false;

	if (g_src.keys == NULL)
		return hb_error_set(err, -HB_ENOENT, "the configuration's source is not known");
	return hb_config_from_argv(g_src.argc, g_src.argv, g_src.keys, g_src.default_path, out, &check, err);
}

static bool is_runtime(const char *key, const char *const *runtime)
{
	for (; *runtime != NULL; runtime++)
		if (strcmp(*runtime, key) == 0)
			return true;
	return false;
}

/* Whether key has the same values in a and b. */
static bool same_values(const hb_config *a, const hb_config *b, const char *key)
{
	size_t n = hb_config_count(a, key);

	if (n != hb_config_count(b, key))
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *x = hb_config_nth(a, key, i), *y = hb_config_nth(b, key, i);
		if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0))
			return false;
	}
	return true;
}

int hb_config_source_reload(const hb_config *running, const char *const *runtime, hb_config_check_fn check,
			    hb_config **fresh, hb_error *err)
{
	hb_config *c = NULL;
	hb_error e = { 0 };
	int64_t level;
	int rc;

	if (hb_log_reopen(&e) < 0)
		hb_log(HB_LOG_ERROR, "SIGHUP: %s", e.msg);
	rc = hb_config_source_load(&c, err);
	if (rc == 0)
		rc = check(c, err);
	if (rc == 0)
		rc = hb_config_int(c, "DEBUG_LEVEL", 0, 3, &level, err);
	if (rc < 0) {
		hb_config_free(c);
		return rc;
	}
	for (const hb_config_key *k = g_src.keys; k->name != NULL; k++)
		if (!is_runtime(k->name, runtime) && !same_values(running, c, k->name))
			hb_log(HB_LOG_WARN, "SIGHUP: %s changed in the configuration; it takes effect at the next restart",
			       k->name);
	hb_log_set_level((int)level);
	*fresh = c;
	return 0;
}
