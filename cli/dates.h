/* dates.h -- hookctl's dates: epoch seconds or ISO 8601 in, local time out. */
#ifndef HB_CLI_DATES_H
#define HB_CLI_DATES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Parses s as a point in time and stores it in *out as epoch seconds.  s is
 * either a whole non-negative number of epoch seconds, or ISO 8601:
 * YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] (a blank may replace the T), followed
 * by Z, +HH:MM, -HH:MM, +HHMM or +HH.  Without a zone the time is local time
 * (a date alone is its local midnight).  Anything else is -HB_EINVAL with err
 * naming s.
 */
int hb_date_parse(const char *s, int64_t *out, hb_error *err);

/* Formats the epoch seconds t in local time with strftime's fmt into buf
 * (size bytes) and returns buf; "-" when t cannot be represented. */
const char *hb_date_format(int64_t t, const char *fmt, char *buf, size_t size);

/* The formats hookctl shows: onehook's short one for tables, a full one for records. */
#define HB_DATE_SHORT "%m/%d %H:%M:%S"
#define HB_DATE_LONG "%Y-%m-%d %H:%M:%S %Z"

#endif
