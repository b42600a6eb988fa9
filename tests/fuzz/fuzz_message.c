/* fuzz_message.c -- fuzz harness: a HOOK_MESSAGE (XML, or base64 when it does not start with '<')
 * through the decoder, key derivation, SEQ insertion and re-encoding. */
#include <stdint.h>
#include <stdlib.h>

#include "message.h"
#include "schema.h"

#define FUZZ_MAX_MESSAGE (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes data as the publisher does an EMIT; a message that decodes gets its
 * keys, a SEQ and its base64, which must decode again. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hb_schema *schema;
	hb_message *m = NULL, *again = NULL;
	hb_keys keys = { 0 };
	hb_error err = { 0 };
	char *b64;
	size_t len;
	int rc;

	if (schema == NULL && hb_schema_load("hook_message.xsd", &schema, &err) < 0)
		abort();
	if (size > 0 && data[0] == '<')
		rc = hb_message_from_xml((const char *)data, size, schema, &m, &err);
	else
		rc = hb_message_from_base64((const char *)data, size, FUZZ_MAX_MESSAGE, schema, &m, &err);
	if (rc < 0)
		return 0;
	if (hb_message_keys(m, &keys, &err) == 0 && hb_message_set_seq(m, 42, &err) == 0) {
		b64 = hb_message_to_base64(m, &len);
		if (b64 != NULL) {
			if (hb_message_from_base64(b64, len, 4 * FUZZ_MAX_MESSAGE, schema, &again, &err) < 0)
				abort();
			hb_message_free(again);
		}
		free(b64);
	}
	hb_keys_free(&keys);
	hb_message_free(m);
	return 0;
}
