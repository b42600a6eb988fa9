/* emit.h -- the one-shot emitter: build a HOOK_MESSAGE, send EMIT, wait for the ACK. */
#ifndef HB_EMIT_H
#define HB_EMIT_H

#include <stdint.h>

#include "error.h"
#include "message.h"

/* Exit statuses of `hm-publisher emit` and `oci-hook --fail-closed`. */
enum {
	HB_EXIT_OK = 0,          /* acknowledged */
	HB_EXIT_REFUSED = 1,     /* the publisher answered ERROR */
	HB_EXIT_USAGE = 2,       /* bad arguments or bad local input */
	HB_EXIT_UNREACHABLE = 3, /* no answer in time */
};

#define HB_DEFAULT_COMMAND_ENDPOINT "tcp://127.0.0.1:2102"
#define HB_DEFAULT_EMIT_TIMEOUT_MS 5000

/* Sends msg as EMIT to endpoint and waits up to timeout_ms for the answer.
 * Returns 0 with the assigned sequence number in *seq, -HB_EPERM when the
 * publisher refused it (err holds its reason), -HB_ETIMEDOUT when nobody
 * answered in time. */
int hb_emit_send(const char *endpoint, const hb_message *msg, int timeout_ms, uint64_t *seq,
		 hb_error *err);

/* Finds the command endpoint as emit and oci-hook do: flag (--endpoint) when
 * non-NULL, else a non-empty $HOOKBUS_PUBLISHER, else the first
 * COMMAND_ENDPOINT of the config file config when non-NULL, else
 * HB_DEFAULT_COMMAND_ENDPOINT.  *out is a new string the caller frees. */
int hb_emit_endpoint(const char *flag, const char *config, char **out, hb_error *err);

/* Milliseconds of CLOCK_MONOTONIC: what --timeout is measured on. */
int64_t hb_emit_clock_ms(void);

/* `hm-publisher emit ...` (argv[0] is "emit"); returns the exit status. */
int hb_emit_main(int argc, char **argv);

#endif
