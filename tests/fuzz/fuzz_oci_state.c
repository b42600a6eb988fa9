/* fuzz_oci_state.c -- fuzz harness: OCI runtime JSON (container state, bundle config.json) through its readers. */
#include <stdint.h>

#include "oci_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses data both as the state an OCI runtime gives a hook on stdin and as a
 * bundle's config.json. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hb_oci_state *s = NULL;
	hb_oci_config *c = NULL;
	hb_error err = { 0 };

	if (hb_oci_state_parse((const char *)data, size, &s, &err) == 0)
		hb_oci_state_free(s);
	if (hb_oci_config_parse((const char *)data, size, &c, &err) == 0)
		hb_oci_config_free(c);
	return 0;
}
