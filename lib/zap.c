/* zap.c -- the ZAP handler of the daemons' CURVE endpoints: an allow-list of client public keys. */
#include "zap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cleanup.h"
#include "curve.h"
#include "fsutil.h"
#include "log.h"
#include "zmqutil.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ALLOWED_FILE_MAX (1u << 20)
#define ZAP_FRAMES_MAX 16

struct hb_zap {
	void *sock;
	uint8_t (*keys)[32];
	size_t nkeys;
};

/* Parses the allowed-keys file text into z->keys. */
static int keys_parse(hb_zap *z, char *text, const char *path, hb_error *err)
{
	unsigned line = 0;

	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		char key[HB_CURVE_KEY_LEN + 1];
		size_t len;
		void *more;

		line++;
		while (*l == ' ' || *l == '\t')
			l++;
		len = strlen(l);
		while (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
			len--;
		if (len == 0 || l[0] == '#')
			continue;
		if (len != HB_CURVE_KEY_LEN)
			return hb_error_set(err, -HB_EINVAL, "%s, line %u: not a 40-character Z85 public key", path, line);
		memcpy(key, l, len);
		key[len] = '\0';
		more = realloc(z->keys, (z->nkeys + 1) * sizeof(*z->keys));
		if (more == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		z->keys = more;
		if (zmq_z85_decode(z->keys[z->nkeys], key) == NULL)
			return hb_error_set(err, -HB_EINVAL, "%s, line %u: not a Z85 key", path, line);
		z->nkeys++;
	}
	return 0;
}

int hb_zap_open(void *ctx, const char *allowed_file, hb_zap **out, hb_error *err)
{
	hb_autofree char *text = NULL;
	hb_zap *z;
	size_t len;
	int zero = 0, rc;

	z = calloc(1, sizeof(*z));
	if (z == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = hb_file_read(allowed_file, ALLOWED_FILE_MAX, &text, &len, err);
	if (rc == 0 && strlen(text) != len)
		rc = hb_error_set(err, -HB_EINVAL, "%s holds a NUL byte", allowed_file);
	if (rc == 0)
		rc = keys_parse(z, text, allowed_file, err);
	if (rc == 0 && (z->sock = zmq_socket(ctx, ZMQ_REP)) == NULL)
		rc = hb_error_set(err, -HB_EIO, "cannot create the ZAP socket: %s", zmq_strerror(errno));
	if (rc == 0) {
		zmq_setsockopt(z->sock, ZMQ_LINGER, &zero, sizeof(zero));
		if (zmq_bind(z->sock, ZAP_ENDPOINT) < 0)
			rc = hb_error_set(err, -HB_EIO, "cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(errno));
	}
	if (rc < 0) {
		hb_zap_close(z);
		return hb_error_prefix(err, "CURVE_ALLOWED_CLIENTS");
	}
	hb_log(HB_LOG_INFO, "CURVE: %zu allowed client key(s) from %s", z->nkeys, allowed_file);
	*out = z;
	return 0;
}

void *hb_zap_socket(hb_zap *z)
{
	return z->sock;
}

static bool key_allowed(const hb_zap *z, const void *key)
{
	for (size_t i = 0; i < z->nkeys; i++)
		if (memcmp(z->keys[i], key, 32) == 0)
			return true;
	return false;
}

/* Sends the ZAP reply for request_id (frame 1 of req). */
static void zap_reply(hb_zap *z, const hb_frames *req, const char *code, const char *text, const char *user)
{
	hb_error err = { 0 };

	if (hb_zmq_send(z->sock, "1.0", 3, true, &err) < 0 ||
	    hb_zmq_send(z->sock, hb_frame_data(req, 1), hb_frame_size(req, 1), true, &err) < 0 ||
	    hb_zmq_send(z->sock, code, strlen(code), true, &err) < 0 ||
	    hb_zmq_send(z->sock, text, strlen(text), true, &err) < 0 ||
	    hb_zmq_send(z->sock, user, strlen(user), true, &err) < 0 ||
	    hb_zmq_send(z->sock, "", 0, false, &err) < 0)
		hb_log(HB_LOG_ERROR, "ZAP reply: %s", err.msg);
}

void hb_zap_handle(hb_zap *z)
{
	for (;;) {
		hb_frames req = { 0 };
		hb_error err = { 0 };
		int rc = hb_frames_recv(z->sock, ZMQ_DONTWAIT, ZAP_FRAMES_MAX, &req, &err);
		char address[64];

		if (rc == 0) {
			hb_frames_free(&req);
			return;
		}
		if (req.n < 2) {
			/* A REP socket must answer something; without a request id there is
			 * nothing to answer with: drop it (only libzmq talks here). */
			hb_log(HB_LOG_ERROR, "ZAP: malformed request dropped");
			hb_frames_free(&req);
			return;
		}
		snprintf(address, sizeof(address), "%.*s", (int)(req.n > 3 && hb_frame_size(&req, 3) < 60 ?
			 hb_frame_size(&req, 3) : 0), req.n > 3 ? hb_frame_data(&req, 3) : "");
		if (rc < 0 || req.n < 7 || !hb_frame_is(&req, 0, "1.0")) {
			zap_reply(z, &req, "500", "malformed ZAP request", "");
		} else if (!hb_frame_is(&req, 5, "CURVE") || hb_frame_size(&req, 6) != 32) {
			hb_log(HB_LOG_WARN, "refused a client from %s: not CURVE", address);
			zap_reply(z, &req, "400", "CURVE required", "");
		} else if (!key_allowed(z, hb_frame_data(&req, 6))) {
			char key[HB_CURVE_KEY_LEN + 1];
			zmq_z85_encode(key, (const uint8_t *)hb_frame_data(&req, 6), 32);
			hb_log(HB_LOG_WARN, "refused a CURVE client from %s: key %s is not allowed", address, key);
			zap_reply(z, &req, "400", "key not allowed", "");
		} else {
			char key[HB_CURVE_KEY_LEN + 1];
			zmq_z85_encode(key, (const uint8_t *)hb_frame_data(&req, 6), 32);
			hb_log(HB_LOG_DEBUG, "admitted CURVE client %s from %s", key, address);
			zap_reply(z, &req, "200", "OK", key);
		}
		hb_frames_free(&req);
	}
}

void hb_zap_close(hb_zap *z)
{
	if (z == NULL)
		return;
	if (z->sock != NULL)
		zmq_close(z->sock);
	free(z->keys);
	free(z);
}
