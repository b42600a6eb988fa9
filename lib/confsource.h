/* confsource.h -- where a daemon's configuration came from, so that SIGHUP can read it again. */
#ifndef HB_CONFSOURCE_H
#define HB_CONFSOURCE_H

#include "config.h"

/* Remembers the daemon's command line, keys and default config path (all
 * must outlive the process's use of hb_config_source_load). */
void hb_config_source_set(int argc, char **argv, const hb_config_key *keys, const char *default_path);

/* Builds the configuration again exactly as at start (file, then command-line
 * flags, which still win).  Returns 0 and *out (freed with hb_config_free),
 * or a negative code; -HB_ENOENT when no source was remembered. */
int hb_config_source_load(hb_config **out, hb_error *err);

/* The SIGHUP of a daemon: reopens a log file, reads the configuration again
 * into *fresh (freed with hb_config_free), validates it with the daemon's
 * check and applies its DEBUG_LEVEL.  Every
 * key outside the NULL-terminated list runtime whose value differs from
 * running is logged as needing a restart (running keeps its value).
 * Returns a negative code, logged by the caller, when the file is bad: then
 * nothing changed but the reopened log. */
typedef int (*hb_config_check_fn)(const hb_config *cfg, hb_error *err);
int hb_config_source_reload(const hb_config *running, const char *const *runtime, hb_config_check_fn check,
			    hb_config **fresh, hb_error *err);

#endif
