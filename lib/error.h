/* error.h -- the one error contract of hookbus: 0 or a negative code plus a message. */
#ifndef HB_ERROR_H
#define HB_ERROR_H

#include <stddef.h>

/*
 * A failing function returns a negative code (-errno style, see HB_E* below)
 * and fills the caller's hb_error with a one-line message.  Each layer may
 * prepend context with hb_error_prefix().  Only main() prints an hb_error.
 * An hb_error lives on the caller's stack; it owns no memory.
 */
enum {
	HB_EINVAL = 22,   /* malformed input: template, XML, base64, frame */
	HB_ENOMEM = 12,   /* allocation failed */
	HB_EIO = 5,       /* file, socket or database failure */
	HB_ENOENT = 2,    /* something named does not exist */
	HB_ETOOBIG = 27,  /* a size limit was hit */
	HB_ETIMEDOUT = 110, /* no answer in time */
	HB_EPERM = 1,     /* refused by policy (permissions, locks) */
};

#define HB_ERROR_MAX 1024

typedef struct hb_error {
	int code;                 /* the negative code last set, 0 when clear */
	char msg[HB_ERROR_MAX];   /* NUL-terminated message */
} hb_error;

/* Sets err (which may be NULL) to code and the formatted message; returns code
 * so that callers can write `return hb_error_set(err, -HB_EINVAL, ...)`. */
int hb_error_set(hb_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "context: " to err's message and returns err->code (or -HB_EIO
 * when err carries no code).  err may be NULL, in which case -HB_EIO is
 * returned. */
int hb_error_prefix(hb_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Clears err (which may be NULL). */
void hb_error_clear(hb_error *err);

#endif
