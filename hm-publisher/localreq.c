/* localreq.c -- turns a local ingest request into its HOOK_MESSAGE with emit's and oci-hook's own parsers and builders. */
#include "localreq.h"

#include <string.h>

#include "emit_args.h"
#include "emit_build.h"
#include "localproto.h"
#include "oci_event.h"
#include "oci_input.h"

static int build_emit(const hb_local_request *r, hb_message **msg, hb_error *err)
{
	const hb_local_payload *object = hb_local_payload_get(r, "object");
	hb_emit_object obj = { .no_files = true };
	hb_emit_args a = { 0 };
	int rc;

	if (object != NULL) {
		obj.text = object->data;
		obj.len = object->len;
	}
	rc = hb_emit_parse(r->argc, r->argv, &a, err);
	if (rc == 0)
		rc = hb_emit_build(&a, &obj, msg, err);
	hb_emit_args_clear(&a);
	return rc;
}

static int build_oci_hook(const hb_local_request *r, hb_message **msg, hb_error *err)
{
	const hb_local_payload *state = hb_local_payload_get(r, "state");
	const hb_local_payload *config = hb_local_payload_get(r, "config");
	const hb_local_payload *host = hb_local_payload_get(r, "host");
	hb_oci_hook_args a = { 0 };
	hb_oci_state *s = NULL;
	hb_oci_config *cfg = NULL;
	char name[256] = "";
	int rc;

	rc = hb_oci_hook_parse(r->argc, r->argv, &a, err);
	if (rc < 0)
		return rc;
	if (state == NULL)
		return hb_error_set(err, -HB_EINVAL, "the container state was not sent");
	if (host != NULL) {
		if (host->len >= sizeof(name) || memchr(host->data, '\0', host->len) != NULL)
			return hb_error_set(err, -HB_EINVAL, "malformed hostname");
		memcpy(name, host->data, host->len);
	}
	rc = hb_oci_state_parse(state->data, state->len, &s, err);
	/* The client warned already of a config.json that does not parse;
	 * the event then lacks what it says, as with the one-shot hook. */
	if (rc == 0 && config != NULL && hb_oci_config_parse(config->data, config->len, &cfg, &(hb_error){ 0 }) < 0)
		cfg = NULL;
	if (rc == 0)
		rc = hb_oci_event_build(s, cfg, a.stage, host != NULL ? name : NULL, msg, err);
	hb_oci_config_free(cfg);
	hb_oci_state_free(s);
	return rc;
}

int hb_local_build(const char *buf, size_t len, hb_message **msg, bool *usage, hb_error *err)
{
	hb_local_request r;
	int rc;

	*usage = false;
	rc = hb_local_decode(buf, len, &r, err);
	if (rc < 0)
		return hb_error_prefix(err, "malformed request");
	if (strcmp(r.argv[0], "emit") == 0)
		rc = build_emit(&r, msg, err);
	else if (strcmp(r.argv[0], "oci-hook") == 0)
		rc = build_oci_hook(&r, msg, err);
	else
		rc = hb_error_set(err, -HB_ENOENT, "unknown verb '%s' (expected emit or oci-hook)", r.argv[0]);
	*usage = rc == -HB_EINVAL || rc == -HB_ETOOBIG;
	hb_local_request_clear(&r);
	return rc;
}
