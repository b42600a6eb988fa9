/* oci_hook.c -- `hm-publisher oci-hook STAGE`: the container state on stdin becomes one acknowledged CONTAINER event. */
#include "oci_hook.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "emit.h"
#include "fsutil.h"
#include "message.h"
#include "oci_doc.h"
#include "oci_stage.h"
#include "oci_state.h"
#include "wait.h"
#include "xml.h"

static void oci_hook_usage(FILE *out)
{
	fputs("usage: hm-publisher oci-hook STAGE [--endpoint E] [-c FILE] [--timeout MS] [--fail-closed]\n"
	      "                                [--wait [--hem-endpoint E]]\n"
	      "An OCI runtime hook: reads the container state JSON on standard input and\n"
	      "publishes it as a CONTAINER event (RESOURCE_ID = container id, STATE = STAGE).\n"
	      "STAGE: createRuntime, createContainer, startContainer, prestart, poststart,\n"
	      "poststop, or their CONTAINER state names (CREATE_RUNTIME, ...), any case.\n"
	      "Options:\n"
	      "  --endpoint E    command endpoint (else $HOOKBUS_PUBLISHER, else the first\n"
	      "                  COMMAND_ENDPOINT of -c FILE, else " HB_DEFAULT_COMMAND_ENDPOINT ")\n"
	      "  -c FILE         hm-publisher.conf to take COMMAND_ENDPOINT from\n"
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

/* What the command line says. */
struct oci_hook_args {
	const hb_oci_stage *stage;
	const char *endpoint, *config, *hem_endpoint;
	int timeout_ms;
	bool fail_closed, wait;
};

/* Reads the command line into a: exactly one STAGE (either spelling), the
 * options with their values checked. */
static int oci_hook_parse(int argc, char **argv, struct oci_hook_args *a, hb_error *err)
{
	const char *stage = NULL;

	a->timeout_ms = HB_DEFAULT_OCI_TIMEOUT_MS;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--fail-closed") == 0) {
			a->fail_closed = true;
			continue;
		}
		if (strcmp(o, "--wait") == 0) {
			a->wait = true;
			continue;
		}
		if (o[0] != '-') {
			if (stage != NULL)
				return hb_error_set(err, -HB_EINVAL, "oci-hook takes one STAGE, not '%s' too", o);
			stage = o;
			continue;
		}
		if (strcmp(o, "--endpoint") != 0 && strcmp(o, "-c") != 0 && strcmp(o, "--timeout") != 0 &&
		    strcmp(o, "--hem-endpoint") != 0)
			return hb_error_set(err, -HB_EINVAL, "unknown option %s", o);
		if (i + 1 >= argc)
			return hb_error_set(err, -HB_EINVAL, "%s needs a value", o);
		if (strcmp(o, "--hem-endpoint") == 0) {
			a->hem_endpoint = argv[++i];
		} else if (strcmp(o, "--endpoint") == 0) {
			a->endpoint = argv[++i];
		} else if (strcmp(o, "-c") == 0) {
			a->config = argv[++i];
		} else {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end != '\0' || end == argv[i] || v <= 0 || v > 3600000)
				return hb_error_set(err, -HB_EINVAL, "--timeout takes milliseconds (1..3600000)");
			a->timeout_ms = (int)v;
		}
	}
	if (stage == NULL)
		return hb_error_set(err, -HB_EINVAL, "oci-hook needs a STAGE");
	if (a->hem_endpoint != NULL && !a->wait)
		return hb_error_set(err, -HB_EINVAL, "--hem-endpoint goes with --wait");
	a->stage = hb_oci_stage_find(stage);
	if (a->stage == NULL)
		return hb_error_set(err, -HB_EINVAL, "'%s' is not an OCI hook stage", stage);
	return 0;
}

/* Reads the container state from standard input and parses it.  A closed
 * descriptor, a terminal or an empty input are errors of their own, so that a
 * mistaken manual run says what is expected. */
static int read_state(hb_oci_state **out, hb_error *err)
{
	hb_autofree char *text = NULL;
	struct stat st;
	size_t len;
	int rc;

	if (fstat(STDIN_FILENO, &st) < 0)
		return hb_error_set(err, -HB_EINVAL, "no standard input (the runtime passes the container "
				    "state JSON there)");
	if (isatty(STDIN_FILENO))
		return hb_error_set(err, -HB_EINVAL, "standard input is a terminal, not the container state JSON");
	rc = hb_fd_read_all(STDIN_FILENO, HB_OCI_STATE_MAX, &text, &len, err);
	if (rc < 0)
		return hb_error_prefix(err, "standard input");
	if (len == 0)
		return hb_error_set(err, -HB_EINVAL, "standard input is empty: expected the container state JSON");
	return hb_oci_state_parse(text, len, out, err);
}

/* Builds the CONTAINER event of state s at stage (config.json's fields
 * when cfg is non-NULL); REMOTE_HOST is this node's hostname. */
static int build_message(const hb_oci_state *s, const hb_oci_config *cfg, const hb_oci_stage *stage,
			 hb_message **msg, hb_error *err)
{
	hb_autodoc xmlDocPtr doc = NULL;
	char host[HOST_NAME_MAX + 1] = "";
	hb_state_event ev = { 0 };
	int rc;

	rc = hb_oci_doc_build(s, cfg, stage, &doc, err);
	if (rc < 0)
		return rc;
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	ev.object = "CONTAINER";
	ev.id = s->id;
	ev.state = stage->state;
	ev.remote_host = host;
	return hb_message_new_state(&ev, xmlDocGetRootElement(doc), msg, err);
}

/* Reports a failure under the hook's policy and returns the exit status:
 * 0 (fail-open, a warning) or status (--fail-closed, an error). */
static int give_up(const struct oci_hook_args *a, const char *what, const char *reason, int status)
{
	if (a->fail_closed) {
		fprintf(stderr, "hm-publisher oci-hook: %s: %s (--fail-closed: the container is refused)\n",
			what, reason);
		return status;
	}
	fprintf(stderr, "hm-publisher oci-hook: warning: %s: %s (fail-open: the container goes on)\n",
		what, reason);
	return HB_EXIT_OK;
}

/* The --wait of oci-hook: hem's verdict on the event seq of container id
 * within what is left of the timeout since start_ms; returns the exit
 * status.  A refusal always fails the hook; no verdict follows the policy. */
static int wait_verdict(const struct oci_hook_args *a, const char *id, uint64_t seq, int64_t start_ms)
{
	int64_t left = a->timeout_ms - (hb_emit_clock_ms() - start_ms);
	hb_autofree char *why = NULL;
	char what[512];
	hb_verdict_kind v = hb_wait_verdict(a->hem_endpoint, seq, left > 0 ? (int)left : 1, &why);

	if (v == HB_VERDICT_ALLOW)
		return HB_EXIT_OK;
	if (v == HB_VERDICT_REFUSE) {
		fprintf(stderr, "hm-publisher oci-hook: container %s (%s, seq %" PRIu64 ") %s\n", id, a->stage->state,
			seq, why ? why : "refused (out of memory)");
		return HB_EXIT_DENIED;
	}
	snprintf(what, sizeof(what), "%s event of container %s (seq %" PRIu64 ")", a->stage->state, id, seq);
	return give_up(a, what, why ? why : "no verdict", HB_EXIT_NO_VERDICT);
}

int hb_oci_hook_main(int argc, char **argv)
{
	struct oci_hook_args a = { 0 };
	hb_oci_state *s = NULL;
	hb_oci_config *cfg = NULL;
	hb_message *msg = NULL;
	hb_autofree char *endpoint = NULL;
	hb_autofree char *what = NULL;
	hb_error err = { 0 };
	char unread[64];
	uint64_t seq;
	int64_t start_ms = hb_emit_clock_ms();
	int rc, status;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			oci_hook_usage(stdout);
			return HB_EXIT_OK;
		}
	if (oci_hook_parse(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "hm-publisher oci-hook: %s\nTry 'hm-publisher oci-hook --help'.\n", err.msg);
		return HB_EXIT_USAGE;
	}
	rc = read_state(&s, &err);
	if (rc < 0) {
		snprintf(unread, sizeof(unread), "%s event not published", a.stage->state);
		status = give_up(&a, unread, err.msg, HB_EXIT_USAGE);
		goto out;
	}
	if (s->bundle != NULL && hb_oci_config_load(s->bundle, &cfg, &err) < 0)
		fprintf(stderr, "hm-publisher oci-hook: warning: container %s: %s; the event lacks what "
			"config.json says\n", s->id, err.msg);
	if (asprintf(&what, "%s event of container %s not published", a.stage->state, s->id) < 0) {
		what = NULL;
		status = give_up(&a, "event not published", "out of memory", HB_EXIT_UNREACHABLE);
		goto out;
	}
	rc = build_message(s, cfg, a.stage, &msg, &err);
	if (rc < 0) {
		status = give_up(&a, what, err.msg, rc == -HB_EINVAL ? HB_EXIT_USAGE : HB_EXIT_UNREACHABLE);
		goto out;
	}
	rc = hb_emit_endpoint(a.endpoint, a.config, &endpoint, &err);
	if (rc < 0) {
		status = give_up(&a, what, err.msg, HB_EXIT_USAGE);
		goto out;
	}
	rc = hb_emit_send(endpoint, msg, a.timeout_ms, &seq, &err);
	if (rc < 0)
		status = give_up(&a, what, err.msg, rc == -HB_EPERM ? HB_EXIT_REFUSED : HB_EXIT_UNREACHABLE);
	else
		status = a.wait ? wait_verdict(&a, s->id, seq, start_ms) : HB_EXIT_OK;
out:
	hb_message_free(msg);
	hb_oci_config_free(cfg);
	hb_oci_state_free(s);
	return status;
}
