/* emit.c -- `hm-publisher emit api|state ...`: one event onto the bus, acknowledged or not. */
#include "emit.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "cleanup.h"
#include "config.h"
#include "curve.h"
#include "fsutil.h"
#include "publisher.h"
#include "wait.h"
#include "xml.h"
#include "zmqutil.h"

#define EMIT_OBJECT_MAX (4u << 20)

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
	      "  --endpoint E    command endpoint (else $HOOKBUS_PUBLISHER, else the first\n"
	      "                  COMMAND_ENDPOINT of -c FILE, else " HB_DEFAULT_COMMAND_ENDPOINT ")\n"
	      "  -c FILE         hm-publisher.conf to take COMMAND_ENDPOINT from\n"
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

/* What the command line says. */
struct emit_args {
	const char *endpoint, *config, *result, *extra, *object_path, *remote_host, *service_id, *hem_endpoint;
	const char *pos[5];
	size_t npos;
	const char **params, **outs;
	size_t nparams, nouts;
	int timeout_ms;
	bool quiet, wait, fail_closed;
};

static int need_value(int argc, char **argv, int i, hb_error *err)
{
	if (i + 1 >= argc)
		return hb_error_set(err, -HB_EINVAL, "%s needs a value", argv[i]);
	return 0;
}

static int emit_parse(int argc, char **argv, struct emit_args *a, hb_error *err)
{
	a->timeout_ms = HB_DEFAULT_EMIT_TIMEOUT_MS;
	a->params = calloc((size_t)argc, sizeof(char *));
	a->outs = calloc((size_t)argc, sizeof(char *));
	if (a->params == NULL || a->outs == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char **slot = NULL;

		if (strcmp(o, "-q") == 0 || strcmp(o, "--quiet") == 0) {
			a->quiet = true;
			continue;
		}
		if (strcmp(o, "--wait") == 0 || strcmp(o, "--fail-closed") == 0) {
			*(o[2] == 'w' ? &a->wait : &a->fail_closed) = true;
			continue;
		}
		if (o[0] != '-' || strcmp(o, "-") == 0) {
			if (a->npos == 5)
				return hb_error_set(err, -HB_EINVAL, "too many arguments: %s", o);
			a->pos[a->npos++] = o;
			continue;
		}
		if (need_value(argc, argv, i, err) < 0)
			return err->code;
		if (strcmp(o, "--endpoint") == 0)
			slot = &a->endpoint;
		else if (strcmp(o, "-c") == 0)
			slot = &a->config;
		else if (strcmp(o, "--result") == 0)
			slot = &a->result;
		else if (strcmp(o, "--extra") == 0)
			slot = &a->extra;
		else if (strcmp(o, "--object") == 0)
			slot = &a->object_path;
		else if (strcmp(o, "--remote-host") == 0)
			slot = &a->remote_host;
		else if (strcmp(o, "--service-id") == 0)
			slot = &a->service_id;
		else if (strcmp(o, "--hem-endpoint") == 0)
			slot = &a->hem_endpoint;
		else if (strcmp(o, "--param") == 0)
			slot = &a->params[a->nparams++];
		else if (strcmp(o, "--out") == 0)
			slot = &a->outs[a->nouts++];
		else if (strcmp(o, "--timeout") == 0) {
			char *end;
			long v = strtol(argv[i + 1], &end, 10);
			if (*end != '\0' || end == argv[i + 1] || v <= 0 || v > 3600000)
				return hb_error_set(err, -HB_EINVAL, "--timeout takes milliseconds (1..3600000)");
			a->timeout_ms = (int)v;
			i++;
			continue;
		} else
			return hb_error_set(err, -HB_EINVAL, "unknown option %s", o);
		*slot = argv[++i];
	}
	if ((a->fail_closed || a->hem_endpoint) && !a->wait)
		return hb_error_set(err, -HB_EINVAL, "--fail-closed and --hem-endpoint go with --wait");
	return 0;
}

int64_t hb_emit_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The --wait of emit: hem's verdict on seq within what is left of
 * timeout_ms since start_ms; returns the exit status. */
static int emit_wait(const struct emit_args *a, uint64_t seq, int64_t start_ms)
{
	int64_t left = a->timeout_ms - (hb_emit_clock_ms() - start_ms);
	hb_autofree char *why = NULL;
	hb_verdict_kind v = hb_wait_verdict(a->hem_endpoint, seq, left > 0 ? (int)left : 1, &why);

	if (v == HB_VERDICT_ALLOW)
		return HB_EXIT_OK;
	if (v == HB_VERDICT_REFUSE) {
		fprintf(stderr, "hm-publisher emit: seq %" PRIu64 " %s\n", seq, why ? why : "refused (out of memory)");
		return HB_EXIT_DENIED;
	}
	if (a->fail_closed) {
		fprintf(stderr, "hm-publisher emit: seq %" PRIu64 ": %s (--fail-closed: counted as refused)\n", seq,
			why ? why : "no verdict");
		return HB_EXIT_NO_VERDICT;
	}
	fprintf(stderr, "hm-publisher emit: warning: seq %" PRIu64 ": %s (fail-open: counted as allowed)\n", seq,
		why ? why : "no verdict");
	return HB_EXIT_OK;
}

int hb_emit_endpoint(const char *flag, const char *config, char **out, hb_error *err)
{
	const char *env = getenv("HOOKBUS_PUBLISHER");
	hb_config *cfg = NULL;
	int rc;

	if (flag != NULL || (env != NULL && env[0] != '\0') || config == NULL) {
		*out = strdup(flag ? flag : (env && env[0]) ? env : HB_DEFAULT_COMMAND_ENDPOINT);
		return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	rc = hb_config_load(config, hb_publisher_config_keys, &cfg, err);
	if (rc < 0)
		return rc;
	*out = strdup(hb_config_nth(cfg, "COMMAND_ENDPOINT", 0));
	hb_config_free(cfg);
	return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

static int emit_build_api(const struct emit_args *a, hb_message **msg, hb_error *err)
{
	if (a->npos != 2)
		return hb_error_set(err, -HB_EINVAL, "emit api takes exactly one CALL");
	if (a->result == NULL || (strcmp(a->result, "0") != 0 && strcmp(a->result, "1") != 0))
		return hb_error_set(err, -HB_EINVAL, "emit api needs --result 0 or --result 1");
	if (a->object_path || a->remote_host || a->service_id)
		return hb_error_set(err, -HB_EINVAL, "--object, --remote-host and --service-id are for state events");
	return hb_message_new_api(a->pos[1], a->result[0] - '0', a->params, a->nparams, a->outs, a->nouts,
				  a->extra, msg, err);
}

static int emit_build_state(const struct emit_args *a, hb_message **msg, hb_error *err)
{
	hb_state_event ev = { 0 };
	hb_autodoc xmlDocPtr objdoc = NULL;
	hb_autofree char *text = NULL;
	size_t len;
	int rc;

	if (a->npos < 4 || a->npos > 5)
		return hb_error_set(err, -HB_EINVAL, "emit state takes OBJ ID STATE [LCM_STATE]");
	if (a->result || a->extra || a->nparams || a->nouts)
		return hb_error_set(err, -HB_EINVAL, "--result, --param, --out and --extra are for API events");
	ev.object = a->pos[1];
	ev.id = a->pos[2];
	ev.state = a->pos[3];
	ev.lcm_state = a->npos == 5 ? a->pos[4] : NULL;
	ev.remote_host = a->remote_host;
	ev.service_id = a->service_id;
	if (a->object_path != NULL) {
		rc = hb_file_read(a->object_path, EMIT_OBJECT_MAX, &text, &len, err);
		if (rc == 0)
			rc = hb_xml_parse(text, len, &objdoc, err);
		if (rc < 0)
			return hb_error_prefix(err, "--object");
	}
	return hb_message_new_state(&ev, objdoc ? xmlDocGetRootElement(objdoc) : NULL, msg, err);
}

int hb_emit_main(int argc, char **argv)
{
	struct emit_args a = { 0 };
	hb_autofree char *endpoint = NULL;
	hb_message *msg = NULL;
	hb_error err = { 0 };
	uint64_t seq = 0;
	int64_t start_ms = hb_emit_clock_ms();
	int rc, status;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			emit_usage(stdout);
			return HB_EXIT_OK;
		}
	rc = emit_parse(argc, argv, &a, &err);
	if (rc == 0 && a.npos == 0)
		rc = hb_error_set(&err, -HB_EINVAL, "emit needs 'api' or 'state'");
	if (rc == 0 && strcmp(a.pos[0], "api") == 0)
		rc = emit_build_api(&a, &msg, &err);
	else if (rc == 0 && strcmp(a.pos[0], "state") == 0)
		rc = emit_build_state(&a, &msg, &err);
	else if (rc == 0)
		rc = hb_error_set(&err, -HB_EINVAL, "emit needs 'api' or 'state', not '%s'", a.pos[0]);
	if (rc == 0)
		rc = hb_emit_endpoint(a.endpoint, a.config, &endpoint, &err);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher emit: %s\n", err.msg);
		if (rc == -HB_EINVAL)
			fputs("Try 'hm-publisher emit --help'.\n", stderr);
		status = HB_EXIT_USAGE;
		goto out;
	}
	rc = hb_emit_send(endpoint, msg, a.timeout_ms, &seq, &err);
	if (rc == 0) {
		if (!a.quiet) {
			printf("%" PRIu64 "\n", seq);
			fflush(stdout);
		}
		status = a.wait ? emit_wait(&a, seq, start_ms) : HB_EXIT_OK;
	} else {
		fprintf(stderr, "hm-publisher emit: %s\n", err.msg);
		status = rc == -HB_EPERM ? HB_EXIT_REFUSED : HB_EXIT_UNREACHABLE;
	}
out:
	hb_message_free(msg);
	free(a.params);
	free(a.outs);
	return status;
}
