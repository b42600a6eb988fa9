/* emit.c -- `hm-publisher emit api|state ...`: one event onto the bus, acknowledged or not. */
#include "emit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "cleanup.h"
#include "config.h"
#include "curve.h"
#include "emit_build.h"
#include "localclient.h"
#include "wait.h"
#include "zmqutil.h"

int hb_emit_send(const char *endpoint, const hb_message *msg, int timeout_ms, uint64_t *seq,
		 hb_error *err)
{
	hb_autofree char *content = NULL;
	hb_autofree hb_curve_client *curve = NULL;
	const char *frames[2];
	size_t lens[2], len;
	hb_frames reply = { 0 };
	void *ctx;
	int rc;

	rc = hb_curve_client_from_env(&curve, err);
	if (rc < 0)
		return rc;
	content = hb_message_to_base64(msg, &len);
	if (content == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	frames[0] = "EMIT";
	lens[0] = 4;
	frames[1] = content;
	lens[1] = len;
	ctx = zmq_ctx_new();
	if (ctx == NULL)
		return hb_error_set(err, -HB_EIO, "cannot create a ZeroMQ context");
	rc = hb_zmq_request_curve(ctx, endpoint, curve, frames, lens, 2, timeout_ms, 4, &reply, err);
	if (rc == 0) {
		hb_autofree char *line = hb_frame_strdup(&reply, 0);
		char *end;
		if (line == NULL) {
			rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
		} else if (strncmp(line, "ACK ", 4) == 0) {
			errno = 0;
			*seq = strtoull(line + 4, &end, 10);
			if (errno != 0 || *end != '\0')
				rc = hb_error_set(err, -HB_EIO, "malformed answer from %s: %s", endpoint, line);
		} else if (strncmp(line, "ERROR ", 6) == 0) {
			rc = hb_error_set(err, -HB_EPERM, "refused by the publisher: %s", line + 6);
		} else {
			rc = hb_error_set(err, -HB_EIO, "malformed answer from %s", endpoint);
		}
	}
	hb_frames_free(&reply);
	zmq_ctx_term(ctx);
	return rc;
}

static void emit_usage(FILE *out)
{
	fputs("usage: hm-publisher emit api CALL --result 0|1 [--param VALUE]... [--out VALUE]...\n"
	      "                              [--extra XML] [OPTIONS]\n"
	      "       hm-publisher emit state OBJ ID STATE [LCM_STATE] [--remote-host H]\n"
	      "                              [--service-id N] [--object FILE|-] [OPTIONS]\n"
	      "Sends one event to hm-publisher and waits for its acknowledgement.\n"
	      "Options:\n"
	      "  --endpoint E    command endpoint, or unix://PATH for the publisher's local\n"
	      "                  socket (else $HOOKBUS_PUBLISHER, else LOCAL_ENDPOINT or the\n"
	      "                  first COMMAND_ENDPOINT of -c FILE, else\n"
	      "                  " HB_DEFAULT_COMMAND_ENDPOINT ")\n"
	      "  -c FILE         hm-publisher.conf to take the endpoint from\n"
	      "  --timeout MS    how long to wait for the ACK, and with --wait for the verdict\n"
	      "                  too (default 5000)\n"
	      "  --wait          after the ACK, wait for hem's verdict on the event's BLOCKING\n"
	      "                  hooks; a refusal is printed on stderr (hook id, name,\n"
	      "                  execution id, the hook's stderr) and exits 4\n"
	      "  --hem-endpoint E  hem's control endpoint for --wait (else $HOOKBUS_ENDPOINT,\n"
	      "                  else ipc:///run/hookbus/hem.sock)\n"
	      "  --fail-closed   with --wait: no verdict in time (hem down, hooks too slow)\n"
	      "                  exits 5; without it the event counts as allowed (a warning\n"
	      "                  on stderr)\n"
	      "  -q, --quiet     do not print the sequence number\n"
	      "CURVE (a tcp:// endpoint of a publisher with CURVE_SECRET_KEY): set\n"
	      "HOOKBUS_CURVE_SERVER_KEY, HOOKBUS_CURVE_PUBLIC_KEY and HOOKBUS_CURVE_SECRET_KEY,\n"
	      "each a Z85 key or the path of a file holding one (a secret's file mode 0600).\n"
	      "Exit status: 0 acknowledged (the sequence number is printed) and, with --wait,\n"
	      "allowed; 1 refused by the publisher, 2 bad arguments or input, 3 no answer in\n"
	      "time, 4 refused by a blocking hook, 5 no verdict under --fail-closed.\n", out);
}

/* Sends the event: over the local ingest socket (the arguments and the
 * object's text, which the daemon builds into the same msg) when endpoint
 * is unix://, else as EMIT of msg. */
static int emit_send(int argc, char **argv, const char *endpoint, const hb_message *msg, const hb_emit_object *obj,
		     int timeout_ms, uint64_t *seq, hb_error *err)
{
	hb_local_request r = { .argc = argc, .argv = argv };

	if (hb_local_path(endpoint) == NULL)
		return hb_emit_send(endpoint, msg, timeout_ms, seq, err);
	if (obj->text != NULL)
		r.payload[r.npayloads++] = (hb_local_payload){ .name = "object", .data = obj->text, .len = obj->len };
	return hb_local_send(endpoint, &r, timeout_ms, seq, err);
}

int hb_emit_main(int argc, char **argv)
{
	hb_emit_args a = { 0 };
	hb_emit_object obj = { 0 };
	hb_autofree char *endpoint = NULL;
	hb_message *msg = NULL;
	hb_error err = { 0 };
	uint64_t seq = 0;
	int64_t start_ms = hb_emit_clock_ms();
	int rc, status;

	if (hb_emit_wants_help(argc, argv)) {
		emit_usage(stdout);
		return HB_EXIT_OK;
	}
	rc = hb_emit_parse(argc, argv, &a, &err);
	if (rc == 0)
		rc = hb_emit_build(&a, &obj, &msg, &err);
	if (rc == 0)
		rc = hb_emit_endpoint(a.endpoint, a.config, &endpoint, &err);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher emit: %s\n", err.msg);
		if (rc == -HB_EINVAL)
			fputs("Try 'hm-publisher emit --help'.\n", stderr);
		status = HB_EXIT_USAGE;
		goto out;
	}
	rc = emit_send(argc, argv, endpoint, msg, &obj, a.timeout_ms, &seq, &err);
	status = hb_emit_finish(&a, rc, seq, err.msg, start_ms, hb_wait_verdict);
out:
	hb_message_free(msg);
	free(obj.owned);
	hb_emit_args_clear(&a);
	return status;
}
