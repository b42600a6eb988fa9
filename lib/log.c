/* log.c -- one log line per call, with a UTC timestamp and the level, to the chosen target. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

enum target { T_STDERR, T_SYSLOG, T_FILE };

static struct {
	enum target target;
	int level;
	FILE *file;
	char *path;
	char ident[64];
} g_log = { T_STDERR, HB_LOG_INFO, NULL, NULL, "hookbus" };

static const char *const level_tag[] = { "E", "W", "I", "D" };

int hb_log_open(const char *target, int level, const char *ident, hb_error *err)
{
	if (level < HB_LOG_ERROR || level > HB_LOG_DEBUG)
		return hb_error_set(err, -HB_EINVAL, "DEBUG_LEVEL must be 0..3, not %d", level);
	hb_log_close();
	snprintf(g_log.ident, sizeof(g_log.ident), "%s", ident);
	g_log.level = level;
	if (target == NULL || target[0] == '\0' || strcmp(target, "stderr") == 0) {
		g_log.target = T_STDERR;
	} else if (strcmp(target, "syslog") == 0) {
		openlog(g_log.ident, LOG_PID, LOG_DAEMON);
		g_log.target = T_SYSLOG;
	} else {
		FILE *f = fopen(target, "ae");
		if (f == NULL)
			return hb_error_set(err, -HB_EIO, "cannot open log file %s: %s", target, strerror(errno));
		setvbuf(f, NULL, _IOLBF, 0);
		g_log.path = strdup(target);
		if (g_log.path == NULL) {
			fclose(f);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		g_log.file = f;
		g_log.target = T_FILE;
	}
	return 0;
}

int hb_log_reopen(hb_error *err)
{
	FILE *f;

	if (g_log.target != T_FILE)
		return 0;
	f = fopen(g_log.path, "ae");
	if (f == NULL)
		return hb_error_set(err, -HB_EIO, "cannot reopen log file %s: %s", g_log.path, strerror(errno));
	setvbuf(f, NULL, _IOLBF, 0);
	fclose(g_log.file);
	g_log.file = f;
	return 0;
}

void hb_log_set_level(int level)
{
	if (level >= HB_LOG_ERROR && level <= HB_LOG_DEBUG)
		g_log.level = level;
}

void hb_log_close(void)
{
	if (g_log.target == T_SYSLOG)
		closelog();
	if (g_log.file != NULL)
		fclose(g_log.file);
	free(g_log.path);
	g_log.file = NULL;
	g_log.path = NULL;
	g_log.target = T_STDERR;
}

void hb_log(int level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[4096];
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	FILE *out;

	if (level > g_log.level)
		return;
	if (level < HB_LOG_ERROR)
		level = HB_LOG_ERROR;
	if (level > HB_LOG_DEBUG)
		level = HB_LOG_DEBUG;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (g_log.target == T_SYSLOG) {
		syslog(prio[level], "%s", line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	out = g_log.target == T_FILE ? g_log.file : stderr;
	fprintf(out, "%s.%03ldZ %s[%ld] [%s] %s\n", stamp, ts.tv_nsec / 1000000L, g_log.ident,
		(long)getpid(), level_tag[level], line);
}
