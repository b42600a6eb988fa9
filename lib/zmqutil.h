/* zmqutil.h -- multipart messages, endpoints with safe ipc modes, and one-shot REQ requests. */
#ifndef HB_ZMQUTIL_H
#define HB_ZMQUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <zmq.h>

#include "error.h"

/* A received multipart message; its frames are owned by it. */
typedef struct hb_frames {
	zmq_msg_t *f;
	size_t n;
	size_t cap;
} hb_frames;

/* Receives one whole multipart message from sock into fr (emptied first).
 * flags is 0 or ZMQ_DONTWAIT.  Returns 1 when a message was read, 0 when
 * ZMQ_DONTWAIT found none (or a signal interrupted the wait), a negative
 * code on error.  A message of more than max_frames frames is read to its end
 * and then refused with -HB_EINVAL (fr then holds its first max_frames). */
int hb_frames_recv(void *sock, int flags, size_t max_frames, hb_frames *fr, hb_error *err);

/* Frees the frames of fr and empties it (fr itself is the caller's). */
void hb_frames_free(hb_frames *fr);

/* Frame i's bytes and size. */
const char *hb_frame_data(const hb_frames *fr, size_t i);
size_t hb_frame_size(const hb_frames *fr, size_t i);

/* Whether frame i holds exactly the bytes of s. */
bool hb_frame_is(const hb_frames *fr, size_t i, const char *s);

/* Returns frame i as a new NUL-terminated string (the caller frees it), or
 * NULL when out of memory. */
char *hb_frame_strdup(const hb_frames *fr, size_t i);

/* Sends len bytes as one frame; more says whether frames follow.  Returns 0 or
 * a negative code (with errno's reason in err). */
int hb_zmq_send(void *sock, const void *data, size_t len, bool more, hb_error *err);

/* Binds sock to endpoint.  For ipc:// endpoints the socket's directory is
 * created 0750 when missing and the socket file is made 0660. */
int hb_zmq_bind(void *sock, const char *endpoint, hb_error *err);

/* Sends the n frames (strings) to endpoint on a fresh REQ socket and waits up
 * to timeout_ms for the reply, which is stored in reply.  No answer in time
 * is -HB_ETIMEDOUT with the endpoint named.  The socket never lingers. */
int hb_zmq_request(void *ctx, const char *endpoint, const char *const *frames, const size_t *lens,
		   size_t n, int timeout_ms, size_t max_reply_frames, hb_frames *reply, hb_error *err);

/* hb_zmq_request() as a CURVE client of curve (lib/curve.h) when curve is
 * non-NULL and endpoint is tcp://; a server that refuses the key gives no
 * answer, hence -HB_ETIMEDOUT. */
struct hb_curve_client;
int hb_zmq_request_curve(void *ctx, const char *endpoint, const struct hb_curve_client *curve,
			 const char *const *frames, const size_t *lens, size_t n, int timeout_ms,
			 size_t max_reply_frames, hb_frames *reply, hb_error *err);

#endif
