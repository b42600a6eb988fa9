/* launcher.c -- hm-publisher: emit and oci-hook sent straight to the daemons' local sockets; everything else run by hm-publisher-core. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "emit_args.h"
#include "fsutil.h"
#include "localclient.h"
#include "oci_input.h"
#include "wait.h"

/* What fast_emit() and fast_oci_hook() return when the core is to run. */
#define TO_CORE (-1)

/* Runs path with argv when it is an executable file; returns otherwise. */
static void try_exec(const char *path, char **argv)
{
	if (access(path, X_OK) == 0)
		execv(path, argv);
}

/*
 * Runs hm-publisher-core with this very argv (argv[0] kept), so that
 * everything but the fast path behaves, prints and exits exactly as the one
 * program did.  The core is looked for next to this program (a build
 * tree), then where the install puts it relative to this program (whatever
 * the prefix), then at this build's installed path.  Returns only when none
 * can run: status 2.
 */
static int exec_core(char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 64], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/hm-publisher-core", self);
			try_exec(path, argv);
			snprintf(path, sizeof(path), "%s/%s", self, HB_CORE_RELPATH);
			try_exec(path, argv);
		}
	}
	execv(HB_CORE_PATH, argv);
	fprintf(stderr, "hm-publisher: cannot run hm-publisher-core (%s): %s; it is the daemon and the ZeroMQ "
		"client, is the installation complete?\n", HB_CORE_PATH, strerror(errno));
	return HB_EXIT_USAGE;
}

/* Finds the endpoint the command line resolves to; returns it (a new
 * string the caller frees) when it is the local socket, else NULL. */
static char *local_endpoint(const char *flag, const char *config)
{
	hb_error err = { 0 };
	char *endpoint = NULL;

	if (hb_emit_endpoint(flag, config, &endpoint, &err) < 0)
		return NULL;
	if (hb_local_path(endpoint) == NULL) {
		free(endpoint);
		return NULL;
	}
	return endpoint;
}

/* Whether --wait (when given) can be answered without libzmq: hem's
 * endpoint is its local socket. */
static bool wait_local(bool wait, const char *hem_flag)
{
	return !wait || hb_local_path(hb_wait_endpoint(hem_flag)) != NULL;
}

/* `emit ...` over the local socket, and with --wait hem's verdict over its
 * local socket; TO_CORE for anything that is not plainly that (--help,
 * another endpoint, arguments the core is to refuse in its own words, an
 * --object file that cannot be read, and a publisher that is not there:
 * the arguments it would have checked are the core's to check, which then
 * says that the publisher is down, or what is wrong with them). */
static int fast_emit(int argc, char **argv)
{
	hb_emit_args a = { 0 };
	hb_autofree char *endpoint = NULL;
	hb_autofree char *object = NULL;
	hb_local_request r = { .argc = argc, .argv = argv };
	hb_error err = { 0 };
	size_t len = 0;
	uint64_t seq = 0;
	int rc, status = TO_CORE;

	int64_t start_ms = hb_emit_clock_ms();

	if (hb_emit_wants_help(argc, argv) || hb_emit_parse(argc, argv, &a, &err) < 0 ||
	    !wait_local(a.wait, a.hem_endpoint) || hb_emit_check(&a, &err) < 0 ||
	    (endpoint = local_endpoint(a.endpoint, a.config)) == NULL)
		goto out;
	if (a.object_path != NULL) {
		rc = hb_file_read(a.object_path, HB_EMIT_OBJECT_MAX, &object, &len, &err);
		if (rc < 0 && strcmp(a.object_path, "-") != 0)
			goto out;   /* nothing read yet: the core says it as it always did */
		if (rc < 0) {
			fprintf(stderr, "hm-publisher emit: --object: %s\n", err.msg);
			status = HB_EXIT_USAGE;
			goto out;
		}
		r.payload[r.npayloads++] = (hb_local_payload){ .name = "object", .data = object, .len = len };
	}
	rc = hb_local_send(endpoint, &r, a.timeout_ms, &seq, &err);
	if (rc == -HB_ENOENT && (a.object_path == NULL || strcmp(a.object_path, "-") != 0))
		goto out;
	status = hb_emit_finish(&a, rc, seq, err.msg, start_ms, hb_wait_verdict_local);
out:
	hb_emit_args_clear(&a);
	return status;
}

/* `oci-hook STAGE ...` over the local socket, and with --wait hem's
 * verdict over its local socket, with oci-hook's own policy (fail-open
 * unless --fail-closed); TO_CORE for --help, another endpoint or arguments
 * the core is to refuse. */
static int fast_oci_hook(int argc, char **argv)
{
	hb_oci_hook_args a = { 0 };
	hb_oci_hook_input in;
	hb_autofree char *endpoint = NULL;
	hb_local_request r;
	hb_error err = { 0 };
	char host[HOST_NAME_MAX + 1];
	uint64_t seq;
	int64_t start_ms = hb_emit_clock_ms();
	int rc, status;

	if (hb_emit_wants_help(argc, argv) || hb_oci_hook_parse(argc, argv, &a, &err) < 0 ||
	    !wait_local(a.wait, a.hem_endpoint) || (endpoint = local_endpoint(a.endpoint, a.config)) == NULL)
		return TO_CORE;
	status = hb_oci_hook_input_read(&a, &in);
	if (status < 0) {
		hb_oci_hook_local_request(argc, argv, in.state_text, in.state_len, in.config_text, in.config_len, host,
					  sizeof(host), &r);
		rc = hb_local_send(endpoint, &r, a.timeout_ms, &seq, &err);
		if (rc < 0)
			status = hb_oci_hook_give_up(&a, in.what, err.msg, hb_emit_status(rc));
		else
			status = a.wait ? hb_oci_hook_wait(&a, in.state->id, seq, start_ms, hb_wait_verdict_local) : HB_EXIT_OK;
	}
	hb_oci_hook_input_clear(&in);
	return status;
}

int main(int argc, char **argv)
{
	int status = TO_CORE;

	if (argc >= 2 && strcmp(argv[1], "emit") == 0)
		status = fast_emit(argc - 1, argv + 1);
	else if (argc >= 2 && strcmp(argv[1], "oci-hook") == 0)
		status = fast_oci_hook(argc - 1, argv + 1);
	return status == TO_CORE ? exec_core(argv) : status;
}
