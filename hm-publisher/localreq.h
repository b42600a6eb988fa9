/* localreq.h -- the event a local ingest request describes, built as emit or oci-hook would build it. */
#ifndef HB_LOCALREQ_H
#define HB_LOCALREQ_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "message.h"

/*
 * Decodes the len bytes of a local ingest request and builds its event into
 * *msg (freed with hb_message_free()) with the code of the one-shot
 * programs: `emit` (its arguments, the --object text sent as payload
 * "object") or `oci-hook` (its arguments, payloads "state", "config" when
 * config.json was readable, "host").  No file a client names is ever
 * opened.  On failure *usage says whether the arguments or the input were
 * at fault (the client exits 2) rather than the request itself.
 */
int hb_local_build(const char *buf, size_t len, hb_message **msg, bool *usage, hb_error *err);

#endif
