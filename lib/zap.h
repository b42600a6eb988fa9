/* zap.h -- a ZAP handler (ZeroMQ RFC 27) that admits only listed CURVE client keys. */
#ifndef HB_ZAP_H
#define HB_ZAP_H

#include "error.h"

typedef struct hb_zap hb_zap;

/* Loads the allowed client public keys from allowed_file (one Z85 key a
 * line; blank lines and lines starting with '#' are skipped) and binds the
 * handler's REP socket to inproc://zeromq.zap.01 in ctx.  It must be open
 * before any CURVE server socket of ctx binds: libzmq admits every client
 * when no handler is there.  *out is closed with hb_zap_close(). */
int hb_zap_open(void *ctx, const char *allowed_file, hb_zap **out, hb_error *err);

/* The handler's socket, for the daemon's poll loop (ZMQ_POLLIN). */
void *hb_zap_socket(hb_zap *z);

/* Answers every ZAP request waiting on the socket: 200 for a CURVE client
 * whose key is listed, 400 for anything else (logged). */
void hb_zap_handle(hb_zap *z);

/* Closes the socket and frees z (accepts NULL); before zmq_ctx_term(). */
void hb_zap_close(hb_zap *z);

#endif
