/* oci_input.c -- oci-hook's command line, its container state on standard input and its fail-open policy (libc and jansson only). */
#include "oci_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "emit_args.h"
#include "fsutil.h"

int hb_oci_hook_parse(int argc, char **argv, hb_oci_hook_args *a, hb_error *err)
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

int hb_oci_hook_read_state(hb_oci_state **out, char **text_out, size_t *len_out, hb_error *err)
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
	rc = hb_oci_state_parse(text, len, out, err);
	if (rc < 0)
		return rc;
	*text_out = hb_steal(&text);
	*len_out = len;
	return 0;
}

int hb_oci_hook_give_up(const hb_oci_hook_args *a, const char *what, const char *reason, int status)
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

void hb_oci_hook_local_request(int argc, char **argv, const char *state, size_t state_len, const char *config,
			       size_t config_len, char *host, size_t size, hb_local_request *r)
{
	*r = (hb_local_request){ .argc = argc, .argv = argv };
	r->payload[r->npayloads++] = (hb_local_payload){ .name = "state", .data = state, .len = state_len };
	if (config != NULL)
		r->payload[r->npayloads++] = (hb_local_payload){ .name = "config", .data = config, .len = config_len };
	if (gethostname(host, size) < 0)
		host[0] = '\0';
	host[size - 1] = '\0';
	r->payload[r->npayloads++] = (hb_local_payload){ .name = "host", .data = host, .len = strlen(host) };
}

int hb_oci_hook_input_read(const hb_oci_hook_args *a, hb_oci_hook_input *in)
{
	hb_error err = { 0 };
	char unread[64];

	memset(in, 0, sizeof(*in));
	if (hb_oci_hook_read_state(&in->state, &in->state_text, &in->state_len, &err) < 0) {
		snprintf(unread, sizeof(unread), "%s event not published", a->stage->state);
		return hb_oci_hook_give_up(a, unread, err.msg, HB_EXIT_USAGE);
	}
	if (in->state->bundle != NULL &&
	    hb_oci_config_load(in->state->bundle, &in->cfg, &in->config_text, &in->config_len, &err) < 0)
		fprintf(stderr, "hm-publisher oci-hook: warning: container %s: %s; the event lacks what "
			"config.json says\n", in->state->id, err.msg);
	if (asprintf(&in->what, "%s event of container %s not published", a->stage->state, in->state->id) < 0) {
		in->what = NULL;
		return hb_oci_hook_give_up(a, "event not published", "out of memory", HB_EXIT_UNREACHABLE);
	}
	return -1;
}

void hb_oci_hook_input_clear(hb_oci_hook_input *in)
{
	hb_oci_state_free(in->state);
	free(in->state_text);
	hb_oci_config_free(in->cfg);
	free(in->config_text);
	free(in->what);
	memset(in, 0, sizeof(*in));
}
