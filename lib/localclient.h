/* localclient.h -- the client of a daemon's local socket (the publisher's ingest, hem's verdicts): one request, one answer. */
#ifndef HB_LOCALCLIENT_H
#define HB_LOCALCLIENT_H

#include <stdint.h>

#include "error.h"
#include "localproto.h"

/*
 * Sends r to the local socket of endpoint (unix://PATH) and waits up to
 * timeout_ms in all for the answer, whose text is put in answer (room for
 * HB_LOCAL_ANSWER_MAX bytes and a NUL).  Returns 0, -HB_EINVAL for an
 * endpoint that is not unix:// with an absolute path, -HB_ETIMEDOUT when
 * nobody answered in time (no socket, nobody listening, connection closed,
 * timeout), -HB_EIO when no socket could be made.
 */
int hb_local_call(const char *endpoint, const hb_local_request *r, int timeout_ms, char *answer, hb_error *err);

/*
 * Sends r to the local ingest socket of endpoint (unix://PATH) and waits up
 * to timeout_ms in all for the answer.  Returns 0 with the sequence number
 * in *seq (ACK); -HB_EPERM when the publisher refused the event (ERROR: err
 * says "refused by the publisher: <why>"); -HB_EINVAL when it found the
 * arguments or the input bad (INVALID: err holds its reason alone); -HB_EIO
 * on a malformed answer; -HB_ENOENT when the socket cannot be connected
 * (no socket, nobody listening: nothing was sent); -HB_ETIMEDOUT when
 * nobody answered in time (connection closed, timeout).
 */
int hb_local_send(const char *endpoint, const hb_local_request *r, int timeout_ms, uint64_t *seq, hb_error *err);

#endif
