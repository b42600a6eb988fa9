/* error.c -- filling and decorating hb_error messages. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int hb_error_set(hb_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int hb_error_prefix(hb_error *err, const char *fmt, ...)
{
	char buf[HB_ERROR_MAX];
	size_t n, m;
	va_list ap;

	if (err == NULL)
		return -HB_EIO;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	if (n + 2 < sizeof(buf)) {
		memcpy(buf + n, ": ", 3);
		n += 2;
		m = strnlen(err->msg, sizeof(err->msg) - 1);
		if (m > sizeof(buf) - 1 - n)
			m = sizeof(buf) - 1 - n;
		memcpy(buf + n, err->msg, m);
		buf[n + m] = '\0';
	}
	memcpy(err->msg, buf, sizeof(buf));
	if (err->code == 0)
		err->code = -HB_EIO;
	return err->code;
}

void hb_error_clear(hb_error *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}
