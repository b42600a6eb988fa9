/* fuzz_local.c -- fuzz harness: a local ingest socket request through everything the daemon does with it before the journal. */
#include <stdbool.h>
#include <stdint.h>

#include "localreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes data as a request of the local socket and builds its event as
 * hm-publisher does (emit's and oci-hook's parsers and builders). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hb_message *msg = NULL;
	hb_error err = { 0 };
	bool usage;

	if (hb_local_build((const char *)data, size, &msg, &usage, &err) == 0)
		hb_message_free(msg);
	return 0;
}
