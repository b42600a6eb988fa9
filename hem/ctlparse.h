/* ctlparse.h -- parsing one request of hem's control API into a struct, apart from sockets and state. */
#ifndef HEM_CTLPARSE_H
#define HEM_CTLPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

#define HEM_CTL_NAME_MAX 511   /* bytes of a RENAME's new name (hookdef checks the real rule) */
#define HEM_CTL_VERDICT_TIMEOUT_MAX 3600000   /* ms a VERDICT may wait */

typedef enum hem_ctl_verb {
	HEM_CTL_ALLOCATE, HEM_CTL_INFO, HEM_CTL_POOL, HEM_CTL_UPDATE, HEM_CTL_RENAME,
	HEM_CTL_DELETE, HEM_CTL_LOCK, HEM_CTL_UNLOCK, HEM_CTL_RETRY, HEM_CTL_LOG, HEM_CTL_VERDICT,
} hem_ctl_verb;

/* One well-formed request (docs/PROTOCOL.md, "hem's control endpoint"). */
typedef struct hem_ctl_request {
	hem_ctl_verb verb;
	int64_t id;             /* the hook id: INFO, UPDATE, RENAME, DELETE, LOCK, UNLOCK, RETRY */
	int64_t exec_id;        /* INFO (-1: the whole hook) and RETRY */
	int64_t level;          /* LOCK: 1 to 4 (1 when not given); UNLOCK: 0 */
	bool append;            /* UPDATE: append (1) or replace (0) */
	const char *text;       /* ALLOCATE, UPDATE: the template text, in the caller's frame, not
	                         * NUL-terminated; its size is checked by the template parser */
	size_t text_len;
	char name[HEM_CTL_NAME_MAX + 1];   /* RENAME */
	hb_log_filter filter;   /* LOG */
	int64_t seq;            /* VERDICT: the event's sequence number */
	int64_t timeout_ms;     /* VERDICT: at most HEM_CTL_VERDICT_TIMEOUT_MAX */
} hem_ctl_request;

/* Parses a request's frames (frames[0] is the verb, the rest its arguments;
 * lens their sizes) into *out, checking the verb, the number of arguments and
 * the shape of each (ids, numbers, levels, filters).  It touches nothing but
 * *out and err, so it is safe on any bytes.  out->text points into frames. */
int hem_ctl_parse(const char *const *frames, const size_t *lens, size_t n, hem_ctl_request *out, hb_error *err);

#endif
