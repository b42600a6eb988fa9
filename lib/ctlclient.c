/* ctlclient.c -- requests to hem's control endpoint (hookctl's, emit --wait's) and the three ways they can end: answered, refused, unreachable. */
#include "ctlclient.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

#include "cleanup.h"
#include "config.h"
#include "xml.h"
#include "zmqutil.h"

#define CTL_MAX_FRAMES 8        /* frames a request may have */
#define CTL_MAX_REPLY_FRAMES 4  /* more than the two of an answer, so that extra ones are seen */

struct hb_ctl {
	char *endpoint;
	int timeout_ms;
	void *zctx;
};

/*
 * The keys of hem.conf (DESIGN section 10), so that hookctl reads the same
 * file hem does.  hookctl uses only CONTROL_ENDPOINT; the others are listed so
 * that hem's file is accepted as it is, and must follow hem's own table.
 */
static const hb_config_key hem_keys[] = {
	{ "SUBSCRIBER_ENDPOINT", NULL, false },
	{ "PUBLISHER_COMMAND_ENDPOINT", NULL, false },
	{ "CONTROL_ENDPOINT", HB_CTL_DEFAULT_ENDPOINT, false },
	{ "LOCAL_ENDPOINT", NULL, false },
	{ "DATABASE", NULL, false },
	{ "HOOK_BASE_PATH", NULL, false },
	{ "REMOTE_HOOK_BASE_PATH", NULL, false },
	{ "REMOTE_SHELL", NULL, false },
	{ "CONCURRENCY", NULL, false },
	{ "BLOCKING_CONCURRENCY", NULL, false },
	{ "DEFAULT_TIMEOUT", NULL, false },
	{ "LOG_RETENTION", NULL, false },
	{ "OUTPUT_LIMIT", NULL, false },
	{ "MAX_MESSAGE_SIZE", NULL, false },
	{ "RESOURCES", NULL, false },
	{ "METRICS_LISTEN", NULL, false },
	{ "DEBUG_LEVEL", NULL, false },
	{ "LOG", NULL, false },
	{ "CURVE_SERVER_PUBLIC_KEY", NULL, false },
	{ "CURVE_PUBLIC_KEY", NULL, false },
	{ "CURVE_SECRET_KEY", NULL, false },
	{ NULL, NULL, false },
};

static void config_cleanup(hb_config **c)
{
	hb_config_free(*c);
}

int hb_ctl_endpoint(const char *flag, const char *config_path, char **out, hb_error *err)
{
	__attribute__((cleanup(config_cleanup))) hb_config *cfg = NULL;
	const char *env = getenv("HOOKBUS_ENDPOINT");
	const char *e = HB_CTL_DEFAULT_ENDPOINT;

	if (flag != NULL) {
		e = flag;
	} else if (env != NULL && env[0] != '\0') {
		e = env;
	} else if (config_path != NULL) {
		if (hb_config_load(config_path, hem_keys, &cfg, err) < 0) {
			hb_error_prefix(err, "-c");
			err->code = -HB_EINVAL;
			return err->code;
		}
		e = hb_config_str(cfg, "CONTROL_ENDPOINT");
	}
	if (e == NULL || e[0] == '\0')
		return hb_error_set(err, -HB_EINVAL, "the control endpoint is empty");
	*out = strdup(e);
	return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

/* Whether ZeroMQ can connect a socket to c's endpoint at all: an unknown
 * transport or a malformed address is the user's mistake, not an unreachable
 * hem.  (Connecting starts no exchange; the socket is closed at once.) */
static int check_endpoint(hb_ctl *c, hb_error *err)
{
	void *probe = zmq_socket(c->zctx, ZMQ_REQ);
	int zero = 0, rc = 0;

	if (probe == NULL)
		return hb_error_set(err, -HB_EIO, "cannot create a socket: %s", zmq_strerror(errno));
	zmq_setsockopt(probe, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_connect(probe, c->endpoint) < 0)
		rc = hb_error_set(err, -HB_EINVAL, "bad endpoint '%s': %s", c->endpoint, zmq_strerror(errno));
	zmq_close(probe);
	return rc;
}

int hb_ctl_new(const char *endpoint, int timeout_ms, hb_ctl **out, hb_error *err)
{
	hb_ctl *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->endpoint = strdup(endpoint)) == NULL) {
		free(c);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	c->timeout_ms = timeout_ms;
	c->zctx = zmq_ctx_new();
	if (c->zctx == NULL) {
		hb_ctl_free(c);
		return hb_error_set(err, -HB_EIO, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
	}
	if (check_endpoint(c, err) < 0) {
		hb_ctl_free(c);
		return err->code;
	}
	*out = c;
	return 0;
}

void hb_ctl_free(hb_ctl *c)
{
	if (c == NULL)
		return;
	if (c->zctx != NULL)
		zmq_ctx_term(c->zctx);
	free(c->endpoint);
	free(c);
}

const char *hb_ctl_endpoint_of(const hb_ctl *c)
{
	return c->endpoint;
}

/* An ipc endpoint whose socket file does not exist cannot be reached: say so
 * at once rather than after the whole timeout.  (An abstract socket, "@name",
 * has no file.) */
static int check_ipc(const hb_ctl *c, hb_error *err)
{
	const char *path;
	struct stat st;

	if (strncmp(c->endpoint, "ipc://", 6) != 0)
		return 0;
	path = c->endpoint + 6;
	if (path[0] == '@' || path[0] == '\0' || stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	return hb_error_set(err, HB_CTL_UNREACHABLE, "cannot reach hem at %s: no socket %s (is hem running?)",
			    c->endpoint, path);
}

int hb_ctl_call(hb_ctl *c, const char *const *frames, char **payload, size_t *len, hb_error *err)
{
	size_t lens[CTL_MAX_FRAMES], n = 0;
	hb_frames reply = { 0 };
	int rc;

	while (frames[n] != NULL) {
		if (n == CTL_MAX_FRAMES)
			return hb_error_set(err, -HB_EINVAL, "too many frames in a request");
		lens[n] = strlen(frames[n]);
		n++;
	}
	rc = check_ipc(c, err);
	if (rc < 0)
		return rc;
	rc = hb_zmq_request(c->zctx, c->endpoint, (const char *const *)frames, lens, n, c->timeout_ms,
			    CTL_MAX_REPLY_FRAMES, &reply, err);
	if (rc == -HB_ETIMEDOUT) {
		hb_frames_free(&reply);
		return hb_error_set(err, HB_CTL_UNREACHABLE, "cannot reach hem at %s: no answer within %d ms (is hem running?)",
				    c->endpoint, c->timeout_ms);
	}
	if (rc == -HB_EINVAL) {
		/* The endpoint was checked: this is an answer of too many frames. */
		hb_frames_free(&reply);
		hb_error_prefix(err, "malformed answer from hem at %s", c->endpoint);
		err->code = -HB_EIO;
		return err->code;
	}
	if (rc < 0) {
		hb_frames_free(&reply);
		hb_error_prefix(err, "cannot reach hem at %s", c->endpoint);
		err->code = HB_CTL_UNREACHABLE;
		return err->code;
	}
	if (reply.n == 2 && hb_frame_is(&reply, 0, "OK")) {
		*payload = hb_frame_strdup(&reply, 1);
		*len = hb_frame_size(&reply, 1);
		rc = *payload ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	} else if (reply.n == 2 && hb_frame_is(&reply, 0, "ERROR")) {
		size_t m = hb_frame_size(&reply, 1);
		const char *why = hb_frame_data(&reply, 1);
		if (m == 0)
			rc = hb_error_set(err, HB_CTL_REFUSED, "refused by hem (no reason given)");
		else
			rc = hb_error_set(err, HB_CTL_REFUSED, "%.*s", (int)(m < HB_ERROR_MAX ? m : HB_ERROR_MAX - 1), why);
	} else {
		rc = hb_error_set(err, -HB_EIO, "malformed answer from hem at %s (%zu frames)", c->endpoint, reply.n);
	}
	hb_frames_free(&reply);
	return rc;
}

int hb_ctl_call_id(hb_ctl *c, const char *const *frames, int64_t *id, hb_error *err)
{
	hb_autofree char *payload = NULL;
	size_t len;
	char *end;
	long long v;
	int rc;

	rc = hb_ctl_call(c, frames, &payload, &len, err);
	if (rc < 0)
		return rc;
	errno = 0;
	v = strtoll(payload, &end, 10);
	if (len == 0 || errno != 0 || *end != '\0' || v < 0 || payload[0] < '0' || payload[0] > '9')
		return hb_error_set(err, -HB_EIO, "malformed answer from hem: '%.64s' is not an id", payload);
	*id = v;
	return 0;
}

int hb_ctl_call_doc(hb_ctl *c, const char *const *frames, const char *root, xmlDocPtr *doc,
		    char **raw, size_t *rawlen, hb_error *err)
{
	hb_autofree char *payload = NULL;
	xmlDocPtr d = NULL;
	xmlNodePtr r;
	size_t len;
	int rc;

	rc = hb_ctl_call(c, frames, &payload, &len, err);
	if (rc < 0)
		return rc;
	if (hb_xml_parse(payload, len, &d, err) < 0) {
		hb_error_prefix(err, "malformed answer from hem");
		err->code = -HB_EIO;
		return err->code;
	}
	r = xmlDocGetRootElement(d);
	if (r == NULL || xmlStrcmp(r->name, BAD_CAST root) != 0) {
		xmlFreeDoc(d);
		return hb_error_set(err, -HB_EIO, "malformed answer from hem: expected a %s document", root);
	}
	*doc = d;
	*raw = hb_steal(&payload);
	*rawlen = len;
	return 0;
}
