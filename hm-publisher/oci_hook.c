/* oci_hook.c -- `hm-publisher oci-hook STAGE`: the container state on stdin becomes one acknowledged CONTAINER event. */
#include "oci_hook.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "emit.h"
#include "localclient.h"
#include "message.h"
#include "oci_event.h"
#include "wait.h"

static void oci_hook_usage(FILE *out)
{
	fputs("usage: hm-publisher oci-hook STAGE [--endpoint E] [-c FILE] [--timeout MS] [--fail-closed]\n"
	      "                                [--wait [--hem-endpoint E]]\n"
	      "An OCI runtime hook: reads the container state JSON on standard input and\n"
	      "publishes it as a CONTAINER event (RESOURCE_ID = container id, STATE = STAGE).\n"
	      "STAGE: createRuntime, createContainer, startContainer, prestart, poststart,\n"
	      "poststop, or their CONTAINER state names (CREATE_RUNTIME, ...), any case.\n"
	      "Options:\n"
	      "  --endpoint E    command endpoint, or unix://PATH for the publisher's local\n"
	      "                  socket (else $HOOKBUS_PUBLISHER, else LOCAL_ENDPOINT or the\n"
	      "                  first COMMAND_ENDPOINT of -c FILE, else\n"
	      "                  " HB_DEFAULT_COMMAND_ENDPOINT ")\n"
	      "  -c FILE         hm-publisher.conf to take the endpoint from\n"
	      "  --timeout MS    how long to wait for the ACK, and with --wait for the verdict\n"
	      "                  too (default 2000)\n"
	      "  --wait          after the ACK, wait for hem's verdict on the event's BLOCKING\n"
	      "                  hooks: a refusal is printed on stderr (hook id, name,\n"
	      "                  execution id, the hook's stderr) and exits 4, so that the\n"
	      "                  runtime aborts the container\n"
	      "  --hem-endpoint E  hem's control endpoint for --wait (else $HOOKBUS_ENDPOINT,\n"
	      "                  else ipc:///run/hookbus/hem.sock)\n"
	      "  --fail-closed   exit non-zero when the event is not acknowledged, or with\n"
	      "                  --wait has no verdict in time, so that the runtime aborts the\n"
	      "                  container (default: warn and exit 0)\n"
	      "Exit status: 0 published (and allowed), or not published (no verdict) without\n"
	      "--fail-closed; 4 refused by a blocking hook; with --fail-closed 1 refused by\n"
	      "the publisher, 2 bad input on standard input or a bad -c FILE, 3 no answer in\n"
	      "time, 5 no verdict in time.  Bad arguments always exit 2.\n", out);
}

/* Sends the event: over the local ingest socket (the arguments, the state
 * and config.json's text, which the daemon builds into the same msg) when
 * endpoint is unix://, else as EMIT of msg. */
static int oci_send(int argc, char **argv, const char *endpoint, const hb_message *msg, const char *state,
		    size_t state_len, const char *config, size_t config_len, int timeout_ms, uint64_t *seq,
		    hb_error *err)
{
	hb_local_request r;
	char host[HOST_NAME_MAX + 1];

	if (hb_local_path(endpoint) == NULL)
		return hb_emit_send(endpoint, msg, timeout_ms, seq, err);
	hb_oci_hook_local_request(argc, argv, state, state_len, config, config_len, host, sizeof(host), &r);
	return hb_local_send(endpoint, &r, timeout_ms, seq, err);
}

int hb_oci_hook_main(int argc, char **argv)
{
	hb_oci_hook_args a = { 0 };
	hb_oci_hook_input in;
	hb_message *msg = NULL;
	hb_autofree char *endpoint = NULL;
	hb_error err = { 0 };
	uint64_t seq;
	int64_t start_ms = hb_emit_clock_ms();
	int rc, status;

	if (hb_emit_wants_help(argc, argv)) {
		oci_hook_usage(stdout);
		return HB_EXIT_OK;
	}
	if (hb_oci_hook_parse(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "hm-publisher oci-hook: %s\nTry 'hm-publisher oci-hook --help'.\n", err.msg);
		return HB_EXIT_USAGE;
	}
	status = hb_oci_hook_input_read(&a, &in);
	if (status >= 0)
		goto out;
	rc = hb_oci_event_build(in.state, in.cfg, a.stage, NULL, &msg, &err);
	if (rc < 0) {
		status = hb_oci_hook_give_up(&a, in.what, err.msg, rc == -HB_EINVAL ? HB_EXIT_USAGE : HB_EXIT_UNREACHABLE);
		goto out;
	}
	rc = hb_emit_endpoint(a.endpoint, a.config, &endpoint, &err);
	if (rc < 0) {
		status = hb_oci_hook_give_up(&a, in.what, err.msg, HB_EXIT_USAGE);
		goto out;
	}
	rc = oci_send(argc, argv, endpoint, msg, in.state_text, in.state_len, in.config_text, in.config_len, a.timeout_ms,
		      &seq, &err);
	if (rc < 0)
		status = hb_oci_hook_give_up(&a, in.what, err.msg, hb_emit_status(rc));
	else
		status = a.wait ? hb_oci_hook_wait(&a, in.state->id, seq, start_ms, hb_wait_verdict) : HB_EXIT_OK;
out:
	hb_message_free(msg);
	hb_oci_hook_input_clear(&in);
	return status;
}
