/* emit_args.c -- emit's command line and the endpoint it resolves to, with no library beyond libc. */
#include "emit_args.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "publisher.h"

static int need_value(int argc, char **argv, int i, hb_error *err)
{
	if (i + 1 >= argc)
		return hb_error_set(err, -HB_EINVAL, "%s needs a value", argv[i]);
	return 0;
}

int hb_emit_parse(int argc, char **argv, hb_emit_args *a, hb_error *err)
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

int hb_emit_check(const hb_emit_args *a, hb_error *err)
{
	if (a->npos == 0)
		return hb_error_set(err, -HB_EINVAL, "emit needs 'api' or 'state'");
	if (strcmp(a->pos[0], "api") == 0) {
		if (a->npos != 2)
			return hb_error_set(err, -HB_EINVAL, "emit api takes exactly one CALL");
		if (a->result == NULL || (strcmp(a->result, "0") != 0 && strcmp(a->result, "1") != 0))
			return hb_error_set(err, -HB_EINVAL, "emit api needs --result 0 or --result 1");
		if (a->object_path || a->remote_host || a->service_id)
			return hb_error_set(err, -HB_EINVAL,
					    "--object, --remote-host and --service-id are for state events");
		return 0;
	}
	if (strcmp(a->pos[0], "state") == 0) {
		if (a->npos < 4 || a->npos > 5)
			return hb_error_set(err, -HB_EINVAL, "emit state takes OBJ ID STATE [LCM_STATE]");
		if (a->result || a->extra || a->nparams || a->nouts)
			return hb_error_set(err, -HB_EINVAL, "--result, --param, --out and --extra are for API events");
		return 0;
	}
	return hb_error_set(err, -HB_EINVAL, "emit needs 'api' or 'state', not '%s'", a->pos[0]);
}

void hb_emit_args_clear(hb_emit_args *a)
{
	free(a->params);
	free(a->outs);
	a->params = a->outs = NULL;
}

bool hb_emit_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int hb_emit_endpoint(const char *flag, const char *config, char **out, hb_error *err)
{
	const char *env = getenv("HOOKBUS_PUBLISHER");
	hb_config *cfg = NULL;
	const char *local;
	int rc;

	if (flag != NULL || (env != NULL && env[0] != '\0') || config == NULL) {
		*out = strdup(flag ? flag : (env && env[0]) ? env : HB_DEFAULT_COMMAND_ENDPOINT);
		return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	rc = hb_config_load(config, hb_publisher_config_keys, &cfg, err);
	if (rc < 0)
		return rc;
	local = hb_config_str(cfg, "LOCAL_ENDPOINT");
	*out = strdup(local != NULL && local[0] != '\0' ? local : hb_config_nth(cfg, "COMMAND_ENDPOINT", 0));
	hb_config_free(cfg);
	return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

int hb_emit_status(int rc)
{
	return rc == -HB_EPERM ? HB_EXIT_REFUSED : rc == -HB_EINVAL ? HB_EXIT_USAGE : HB_EXIT_UNREACHABLE;
}
