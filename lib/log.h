/* log.h -- daemon logging to stderr, syslog or a file, filtered by DEBUG_LEVEL. */
#ifndef HB_LOG_H
#define HB_LOG_H

#include "error.h"

/* Levels as OpenNebula's DEBUG_LEVEL: 0 error, 1 warning, 2 info, 3 debug. */
enum { HB_LOG_ERROR = 0, HB_LOG_WARN = 1, HB_LOG_INFO = 2, HB_LOG_DEBUG = 3 };

/* Directs the process's log to target ("stderr", "syslog" or a file path,
 * opened for append) at the given level; ident names the program in each
 * line.  Until called, messages of level <= INFO go to stderr. */
int hb_log_open(const char *target, int level, const char *ident, hb_error *err);

/* Reopens a file target (after rotation, on SIGHUP); a no-op otherwise. */
int hb_log_reopen(hb_error *err);

/* Changes the level at run time. */
void hb_log_set_level(int level);

/* Closes the log target; later messages go to stderr. */
void hb_log_close(void);

/* Writes one line (a trailing newline is added) when level is enabled. */
void hb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
