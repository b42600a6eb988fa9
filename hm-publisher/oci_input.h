/* oci_input.h -- what `hm-publisher oci-hook` takes from its command line and standard input, and its fail-open policy. */
#ifndef HB_OCI_INPUT_H
#define HB_OCI_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "localproto.h"
#include "oci_stage.h"
#include "oci_state.h"

#define HB_DEFAULT_OCI_TIMEOUT_MS 2000

/* What an oci-hook command line says (strings borrowed from argv). */
typedef struct hb_oci_hook_args {
	const hb_oci_stage *stage;
	const char *endpoint, *config, *hem_endpoint;
	int timeout_ms;
	bool fail_closed, wait;
} hb_oci_hook_args;

/* Reads the command line of oci-hook (argv[0] is "oci-hook") into a:
 * exactly one STAGE (either spelling), the options with their values
 * checked.  Errors are -HB_EINVAL. */
int hb_oci_hook_parse(int argc, char **argv, hb_oci_hook_args *a, hb_error *err);

/* Reads the container state from standard input and parses it into *out;
 * the text read is handed over in *text (the caller frees it) and *len.  A
 * closed descriptor, a terminal or an empty input are errors of their own,
 * so that a mistaken manual run says what is expected. */
int hb_oci_hook_read_state(hb_oci_state **out, char **text, size_t *len, hb_error *err);

/* Reports a failure under the hook's policy on stderr and returns the exit
 * status: 0 (fail-open, a warning) or status (--fail-closed, an error). */
int hb_oci_hook_give_up(const hb_oci_hook_args *a, const char *what, const char *reason, int status);

/* What oci-hook reads before it sends: the container state from standard
 * input and, when the state names a bundle, its config.json, each parsed
 * and as text; and the words of a failure to publish.  Owned; freed by
 * hb_oci_hook_input_clear(). */
typedef struct hb_oci_hook_input {
	hb_oci_state *state;
	char *state_text;
	size_t state_len;
	hb_oci_config *cfg;      /* NULL without a bundle, or when config.json could not be read (a warning said so) */
	char *config_text;
	size_t config_len;
	char *what;              /* "<STAGE> event of container <ID> not published" */
} hb_oci_hook_input;

/* Reads in for a's stage.  Returns -1 when there is an event to send, else
 * the exit status of the failure, already reported under a's policy. */
int hb_oci_hook_input_read(const hb_oci_hook_args *a, hb_oci_hook_input *in);

void hb_oci_hook_input_clear(hb_oci_hook_input *in);

/* Fills r with the local ingest request of an oci-hook command line: the
 * arguments, the state's text, config.json's text when config is non-NULL,
 * and this node's hostname (written into host, of size bytes).  r borrows
 * everything it points to. */
void hb_oci_hook_local_request(int argc, char **argv, const char *state, size_t state_len, const char *config,
			       size_t config_len, char *host, size_t size, hb_local_request *r);

#endif
