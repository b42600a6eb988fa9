/* wait.h -- `--wait` of emit and oci-hook: after the ACK, hem's verdict on the event's blocking hooks. */
#ifndef HB_WAIT_H
#define HB_WAIT_H

#include <stdint.h>

#include "emit_args.h"
#include "error.h"
#include "oci_input.h"

/* What hem said of an event. */
typedef enum hb_verdict_kind {
	HB_VERDICT_ALLOW,    /* every blocking hook allowed it, or none applied */
	HB_VERDICT_REFUSE,   /* a blocking hook refused it */
	HB_VERDICT_UNKNOWN,  /* no verdict: timeout, hem unreachable, a malformed answer */
} hb_verdict_kind;

/* Exit statuses of --wait, after those of emit_args.h. */
enum {
	HB_EXIT_DENIED = 4,     /* a blocking hook refused the event */
	HB_EXIT_NO_VERDICT = 5, /* no verdict in time, under --fail-closed */
};

/*
 * Asks hem for the verdict of the event seq and waits at most timeout_ms
 * for it.  hem's endpoint is flag (--hem-endpoint) when non-NULL, else
 * $HOOKBUS_ENDPOINT, else the default ipc:///run/hookbus/hem.sock: its
 * control endpoint, or unix://PATH for its local socket (LOCAL_ENDPOINT).
 * hem is given a little less than timeout_ms, so that its "timeout" answer
 * arrives in time.  Returns the kind; *why (a new string the caller frees,
 * or NULL when out of memory) says, in one line, who refused and why (the
 * hook's id, name, execution id and stderr) or why there is no verdict; it
 * is NULL on allow.
 */
typedef hb_verdict_kind hb_verdict_fetch(const char *flag, uint64_t seq, int timeout_ms, char **why);

/* hb_verdict_fetch over ZeroMQ or hem's local socket, as the endpoint says
 * (hm-publisher-core). */
hb_verdict_kind hb_wait_verdict(const char *flag, uint64_t seq, int timeout_ms, char **why);

/* hb_verdict_fetch over hem's local socket only: an endpoint that is not
 * unix:// has no verdict (the launcher, which has no libzmq, checks
 * hb_wait_local_endpoint() first). */
hb_verdict_kind hb_wait_verdict_local(const char *flag, uint64_t seq, int timeout_ms, char **why);

/* The milliseconds hem is given of the client's timeout_ms. */
int hb_wait_hem_ms(int timeout_ms);

/* Milliseconds of CLOCK_MONOTONIC: what --timeout is measured on. */
int64_t hb_emit_clock_ms(void);

/* hem's endpoint for --wait, found as described above (flag or the
 * environment, borrowed, or the default). */
const char *hb_wait_endpoint(const char *flag);

/* Turns hem's answer to VERDICT (its text, NUL-terminated) into a kind and
 * *why, as hb_verdict_fetch describes; timeout_ms is for the words. */
hb_verdict_kind hb_verdict_read(const char *payload, int timeout_ms, char **why);

/* The end of emit, once its event was sent (rc 0, the sequence number seq)
 * or not (rc negative, why says why): seq printed unless --quiet and, with
 * --wait, fetch's verdict on it within what is left of a->timeout_ms since
 * start_ms (hb_emit_clock_ms()); else the failure on stderr.  Returns the
 * exit status. */
int hb_emit_finish(const hb_emit_args *a, int rc, uint64_t seq, const char *why, int64_t start_ms,
		   hb_verdict_fetch *fetch);

/* The --wait of oci-hook for the event seq of container id, as
 * emit's: a refusal always fails the hook, no verdict follows the
 * hook's policy (hb_oci_hook_give_up()). */
int hb_oci_hook_wait(const hb_oci_hook_args *a, const char *id, uint64_t seq, int64_t start_ms,
		     hb_verdict_fetch *fetch);

#endif
