/* dates.c -- parsing the dates hookctl accepts (epoch seconds, ISO 8601) and showing times in local time. */
#include "dates.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Reads exactly n digits at *p into *v and advances *p. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Parses a zone designator (Z, +HH:MM, +HHMM, +HH and their - forms) that
 * must end the string; stores its offset east of UTC in seconds. */
static bool zone(const char *p, long *offset)
{
	int sign, hh, mm = 0;

	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0) {
		*offset = 0;
		return true;
	}
	if (*p != '+' && *p != '-')
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, 2, &hh))
		return false;
	if (*p == ':')
		p++;
	if (*p != '\0' && !digits(&p, 2, &mm))
		return false;
	if (*p != '\0' || hh > 23 || mm > 59)
		return false;
	*offset = sign * (hh * 3600L + mm * 60L);
	return true;
}

/* Parses the ISO 8601 forms; false when s is not one of them. */
static bool parse_iso(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	bool has_zone = false;
	long offset = 0;
	time_t t;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return false;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
		}
		if (h > 23 || mi > 59 || sec > 59)
			return false;
		if (*p != '\0') {
			if (!zone(p, &offset))
				return false;
			has_zone = true;
		}
	} else if (*p != '\0') {
		return false;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (has_zone) {
		t = timegm(&tm);
		if (t == (time_t)-1)
			return false;
		*out = (int64_t)t - offset;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return false;
		*out = (int64_t)t;
	}
	return *out >= 0;
}

int hb_date_parse(const char *s, int64_t *out, hb_error *err)
{
	size_t n = strspn(s, "0123456789");

	if (n > 0 && s[n] == '\0') {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0') {
			*out = v;
			return 0;
		}
	} else if (parse_iso(s, out)) {
		return 0;
	}
	return hb_error_set(err, -HB_EINVAL,
			    "'%s' is not a date (give epoch seconds or ISO 8601, e.g. 2024-05-01, "
			    "2024-05-01T12:30:00 or 2024-05-01T12:30:00Z)", s);
}

const char *hb_date_format(int64_t t, const char *fmt, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(buf, size, fmt, &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}
