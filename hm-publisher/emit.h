/* emit.h -- the one-shot emitter: build a HOOK_MESSAGE, send EMIT, wait for the ACK. */
#ifndef HB_EMIT_H
#define HB_EMIT_H

#include <stdint.h>

#include "emit_args.h"
#include "error.h"
#include "message.h"

/* Sends msg as EMIT to endpoint and waits up to timeout_ms for the answer.
 * Returns 0 with the assigned sequence number in *seq, -HB_EPERM when the
 * publisher refused it (err holds its reason), -HB_ETIMEDOUT when nobody
 * answered in time. */
int hb_emit_send(const char *endpoint, const hb_message *msg, int timeout_ms, uint64_t *seq,
		 hb_error *err);

/* `hm-publisher emit ...` (argv[0] is "emit"); returns the exit status. */
int hb_emit_main(int argc, char **argv);

#endif
