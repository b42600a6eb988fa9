/* zmqutil.c -- the libzmq calls every hookbus program makes, with hb_error reporting. */
#include "zmqutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "curve.h"
#include "fsutil.h"

void hb_frames_free(hb_frames *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		zmq_msg_close(&fr->f[i]);
	free(fr->f);
	fr->f = NULL;
	fr->n = fr->cap = 0;
}

/* Reads and drops the rest of a multipart message. */
static void frames_drain(void *sock)
{
	int more = 1;
	size_t sz = sizeof(more);
	zmq_msg_t m;

	while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, 0) < 0) {
			zmq_msg_close(&m);
			return;
		}
		zmq_msg_close(&m);
		sz = sizeof(more);
	}
}

int hb_frames_recv(void *sock, int flags, size_t max_frames, hb_frames *fr, hb_error *err)
{
	hb_frames_free(fr);
	for (;;) {
		int more = 0;
		size_t sz = sizeof(more);

		if (fr->n == max_frames) {
			frames_drain(sock);
			return hb_error_set(err, -HB_EINVAL, "message has more than %zu frames", max_frames);
		}
		if (fr->n == fr->cap) {
			size_t cap = fr->cap ? fr->cap * 2 : 4;
			zmq_msg_t *nf = realloc(fr->f, cap * sizeof(*nf));
			if (nf == NULL) {
				frames_drain(sock);
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			}
			fr->f = nf;
			fr->cap = cap;
		}
		zmq_msg_init(&fr->f[fr->n]);
		if (zmq_msg_recv(&fr->f[fr->n], sock, fr->n == 0 ? flags : 0) < 0) {
			int e = errno;
			zmq_msg_close(&fr->f[fr->n]);
			if (fr->n == 0 && (e == EAGAIN || e == EINTR))
				return 0;
			return hb_error_set(err, -HB_EIO, "receive failed: %s", zmq_strerror(e));
		}
		fr->n++;
		if (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) < 0 || !more)
			return 1;
	}
}

const char *hb_frame_data(const hb_frames *fr, size_t i)
{
	return zmq_msg_data((zmq_msg_t *)&fr->f[i]);
}

size_t hb_frame_size(const hb_frames *fr, size_t i)
{
	return zmq_msg_size((zmq_msg_t *)&fr->f[i]);
}

bool hb_frame_is(const hb_frames *fr, size_t i, const char *s)
{
	size_t n = strlen(s);

	return i < fr->n && hb_frame_size(fr, i) == n && memcmp(hb_frame_data(fr, i), s, n) == 0;
}

char *hb_frame_strdup(const hb_frames *fr, size_t i)
{
	return strndup(hb_frame_data(fr, i), hb_frame_size(fr, i));
}

int hb_zmq_send(void *sock, const void *data, size_t len, bool more, hb_error *err)
{
	while (zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0) {
		if (errno == EINTR)
			continue;
		return hb_error_set(err, -HB_EIO, "send failed: %s", zmq_strerror(errno));
	}
	return 0;
}

int hb_zmq_bind(void *sock, const char *endpoint, hb_error *err)
{
	const char *path = strncmp(endpoint, "ipc://", 6) == 0 ? endpoint + 6 : NULL;
	int rc;

	if (path != NULL && path[0] == '/') {
		rc = hb_mkdir_parent(path, 0750, err);
		if (rc < 0)
			return rc;
	}
	if (zmq_bind(sock, endpoint) < 0)
		return hb_error_set(err, -HB_EIO, "cannot bind %s: %s", endpoint, zmq_strerror(errno));
	if (path != NULL && path[0] != '@' && chmod(path, 0660) < 0)
		return hb_error_set(err, -HB_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
	return 0;
}

int hb_zmq_request(void *ctx, const char *endpoint, const char *const *frames, const size_t *lens,
		   size_t n, int timeout_ms, size_t max_reply_frames, hb_frames *reply, hb_error *err)
{
	return hb_zmq_request_curve(ctx, endpoint, NULL, frames, lens, n, timeout_ms, max_reply_frames, reply, err);
}

int hb_zmq_request_curve(void *ctx, const char *endpoint, const struct hb_curve_client *curve,
			 const char *const *frames, const size_t *lens, size_t n, int timeout_ms,
			 size_t max_reply_frames, hb_frames *reply, hb_error *err)
{
	void *sock = zmq_socket(ctx, ZMQ_REQ);
	int zero = 0, rc = 0;
	zmq_pollitem_t item;

	if (sock == NULL)
		return hb_error_set(err, -HB_EIO, "cannot create a socket: %s", zmq_strerror(errno));
	zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
	rc = hb_curve_client_apply(curve, sock, endpoint, err);
	if (rc < 0)
		goto out;
	if (zmq_connect(sock, endpoint) < 0) {
		rc = hb_error_set(err, -HB_EINVAL, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int sndtimeo = timeout_ms;
		zmq_setsockopt(sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo));
		if (zmq_send(sock, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
			rc = hb_error_set(err, -HB_ETIMEDOUT, "cannot send to %s: %s", endpoint, zmq_strerror(errno));
	}
	if (rc < 0)
		goto out;
	item = (zmq_pollitem_t){ .socket = sock, .events = ZMQ_POLLIN };
	do {
		rc = zmq_poll(&item, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0) {
		rc = hb_error_set(err, -HB_ETIMEDOUT, "no answer from %s within %d ms (is the daemon running?)",
				  endpoint, timeout_ms);
		goto out;
	}
	rc = hb_frames_recv(sock, 0, max_reply_frames, reply, err);
	if (rc == 0)
		rc = hb_error_set(err, -HB_EIO, "no reply from %s", endpoint);
	else if (rc > 0)
		rc = 0;
out:
	zmq_close(sock);
	return rc;
}
