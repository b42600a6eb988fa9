/* config.h -- daemon and client configuration: a template file plus --key value overrides. */
#ifndef HB_CONFIG_H
#define HB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "template.h"

/*
 * A config is a template (DESIGN section 10): keys are case-insensitive and
 * may repeat (COMMAND_ENDPOINT).  Command-line flags `--some-key value`
 * override the file: the key is upper-cased with '-' turned into '_'; the
 * first override of a key replaces every value the file gave it, later
 * overrides of the same key append (so a repeatable key can be given twice).
 */
typedef struct hb_config hb_config;

/* One known key: its name (upper-case), its default (NULL = none) and whether
 * it may repeat. */
typedef struct hb_config_key {
	const char *name;
	const char *def;
	bool repeat;
} hb_config_key;

/* Creates a config that knows the keys of the NULL-name-terminated array
 * keys (which must outlive it).  If path is non-NULL the file is read and
 * parsed; an unknown key, a vector value or a repeated non-repeatable key is
 * an error naming the key and its line.  Returns 0 and *out (freed with
 * hb_config_free) or a negative code. */
int hb_config_load(const char *path, const hb_config_key *keys, hb_config **out, hb_error *err);

/* Applies one override: flag is "--some-key" (or "some-key"), value its
 * argument.  An unknown key is an error. */
int hb_config_override(hb_config *c, const char *flag, const char *value, hb_error *err);

/* Builds a daemon's config from its command line: the file of `-c FILE`
 * (or `--config FILE`), else default_path when that file exists, else the
 * built-in defaults; then every `--some-key value` flag as an override.
 * `--check-config` sets *check (which may be NULL to refuse it).  Anything
 * else is an error naming the argument. */
int hb_config_from_argv(int argc, char **argv, const hb_config_key *keys, const char *default_path,
			hb_config **out, bool *check, hb_error *err);

/* Frees c; accepts NULL. */
void hb_config_free(hb_config *c);

/* Returns the first value of key (any case), else its default, else NULL.
 * The string belongs to c. */
const char *hb_config_str(const hb_config *c, const char *key);

/* Returns the number of values key has (its default counts as one when the
 * file and the flags give none) and stores the i-th in *value. */
size_t hb_config_count(const hb_config *c, const char *key);
const char *hb_config_nth(const hb_config *c, const char *key, size_t i);

/* Reads key as an integer in [min, max] into *out; a value that is not a
 * whole decimal number, or is out of range, is an error naming the key.
 * Accepts the suffixes K, M, G (powers of 1024) for sizes. */
int hb_config_int(const hb_config *c, const char *key, int64_t min, int64_t max,
		  int64_t *out, hb_error *err);

/* Reads key as a boolean (yes/no/true/false/1/0, any case) into *out. */
int hb_config_bool(const hb_config *c, const char *key, bool *out, hb_error *err);

#endif
