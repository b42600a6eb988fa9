/* wait.h -- `--wait` of emit and oci-hook: after the ACK, hem's verdict on the event's blocking hooks. */
#ifndef HB_WAIT_H
#define HB_WAIT_H

#include <stdint.h>

#include "error.h"

/* What hem said of an event. */
typedef enum hb_verdict_kind {
	HB_VERDICT_ALLOW,    /* every blocking hook allowed it, or none applied */
	HB_VERDICT_REFUSE,   /* a blocking hook refused it */
	HB_VERDICT_UNKNOWN,  /* no verdict: timeout, hem unreachable, a malformed answer */
} hb_verdict_kind;

/* Exit statuses of --wait, after those of emit.h. */
enum {
	HB_EXIT_DENIED = 4,     /* a blocking hook refused the event */
	HB_EXIT_NO_VERDICT = 5, /* no verdict in time, under --fail-closed */
};

/*
 * Asks hem's control endpoint for the verdict of the event seq and waits at
 * most timeout_ms for it.  The endpoint is found as hookctl finds it: flag
 * (--hem-endpoint) when non-NULL, else $HOOKBUS_ENDPOINT, else the default
 * ipc:///run/hookbus/hem.sock.  hem is given a little less than timeout_ms,
 * so that its "timeout" answer arrives in time.  Returns the kind; *why (a
 * new string the caller frees, or NULL when out of memory) says, in one
 * line, who refused and why (the hook's id, name, execution id and stderr)
 * or why there is no verdict; it is NULL on allow.
 */
hb_verdict_kind hb_wait_verdict(const char *flag, uint64_t seq, int timeout_ms, char **why);

#endif
