/* emit_args.h -- what `hm-publisher emit` takes from its command line, and where it sends the event. */
#ifndef HB_EMIT_ARGS_H
#define HB_EMIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Exit statuses of `hm-publisher emit` and `oci-hook --fail-closed`. */
enum {
	HB_EXIT_OK = 0,          /* acknowledged */
	HB_EXIT_REFUSED = 1,     /* the publisher answered ERROR */
	HB_EXIT_USAGE = 2,       /* bad arguments or bad local input */
	HB_EXIT_UNREACHABLE = 3, /* no answer in time */
};

#define HB_DEFAULT_COMMAND_ENDPOINT "tcp://127.0.0.1:2102"
#define HB_DEFAULT_EMIT_TIMEOUT_MS 5000
#define HB_EMIT_OBJECT_MAX (4u << 20)   /* bytes of an --object file read */

/* What an emit command line says.  The strings are borrowed from argv; the
 * arrays params and outs belong to the struct (hb_emit_args_clear()). */
typedef struct hb_emit_args {
	const char *endpoint, *config, *result, *extra, *object_path, *remote_host, *service_id, *hem_endpoint;
	const char *pos[5];
	size_t npos;
	const char **params, **outs;
	size_t nparams, nouts;
	int timeout_ms;
	bool quiet, wait, fail_closed;
} hb_emit_args;

/* Reads the command line of emit (argv[0] is "emit") into a, which starts
 * zeroed: the options with their values checked, up to five positional
 * arguments.  Whether they make an event is hb_emit_build()'s to say. */
int hb_emit_parse(int argc, char **argv, hb_emit_args *a, hb_error *err);

/* Checks that a parsed command line describes an event: `api CALL` with
 * --result 0 or 1 and no state option, or `state OBJ ID STATE [LCM]` with
 * no API option.  What only building the message finds (an object name, the
 * XML of --extra or --object) is hb_emit_build()'s.  Errors are -HB_EINVAL. */
int hb_emit_check(const hb_emit_args *a, hb_error *err);

/* Frees what hb_emit_parse() allocated in a; accepts a zeroed one. */
void hb_emit_args_clear(hb_emit_args *a);

/* Whether argv (after its argv[0]) asks for --help or -h. */
bool hb_emit_wants_help(int argc, char **argv);

/* Finds the command endpoint as emit and oci-hook do: flag (--endpoint) when
 * non-NULL, else a non-empty $HOOKBUS_PUBLISHER, else from the config file
 * config when non-NULL its LOCAL_ENDPOINT when set, else its first
 * COMMAND_ENDPOINT, else HB_DEFAULT_COMMAND_ENDPOINT.  *out is a new string
 * the caller frees. */
int hb_emit_endpoint(const char *flag, const char *config, char **out, hb_error *err);

/* The exit status of a failed send (emit's; oci-hook's under --fail-closed):
 * refused by the publisher 1, bad arguments or input 2, no answer 3. */
int hb_emit_status(int rc);

#endif
