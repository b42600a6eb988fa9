/* fuzz_message.c -- fuzz harness: a HOOK_MESSAGE (XML, or base64 when it does not start with '<')
 * through the decoder, key derivation, SEQ insertion and re-encoding, with and without the
 * publisher's reused parser and serializer (which must give the same bytes). */
#include <stdint.h>
#include <stdlib.h>

#include <string.h>

#include "message.h"
#include "schema.h"
#include "xmlcodec.h"

#define FUZZ_MAX_MESSAGE (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes data as the publisher does an EMIT, with a codec kept across
 * inputs, and as hem does, without; both must decide alike.  A message that
 * decodes gets its keys, a SEQ and its base64, the same bytes either way
 * (SEQ put into the emitter's text, or the document serialized), which
 * must decode again. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static hb_schema *schema;
	static hb_xml_codec *codec;
	hb_message *m = NULL, *c = NULL, *again = NULL;
	hb_keys keys = { 0 };
	hb_error err = { 0 }, cerr = { 0 };
	char *b64, *cb64;
	size_t len, clen;
	int rc, crc;

	if (schema == NULL && hb_schema_load("hook_message.xsd", &schema, &err) < 0)
		abort();
	if (codec == NULL && hb_xml_codec_new(&codec, &err) < 0)
		abort();
	if (size > 0 && data[0] == '<') {
		rc = hb_message_from_xml((const char *)data, size, schema, &m, &err);
		crc = hb_message_parse(codec, (const char *)data, size, schema, &c, &cerr);
	} else {
		rc = hb_message_from_base64((const char *)data, size, FUZZ_MAX_MESSAGE, schema, &m, &err);
		crc = hb_message_decode(codec, (const char *)data, size, FUZZ_MAX_MESSAGE, schema, &c, &cerr);
	}
	if (rc != crc || (rc < 0 && strcmp(err.msg, cerr.msg) != 0))
		abort();
	if (rc < 0)
		return 0;
	if (hb_message_keys(m, &keys, &err) == 0 && hb_message_set_seq(m, 42, &err) == 0 &&
	    hb_message_set_seq(c, 42, &err) == 0) {
		b64 = hb_message_to_base64(m, &len);
		cb64 = hb_message_encode(codec, c, &clen);
		if (b64 != NULL && cb64 != NULL && (len != clen || memcmp(b64, cb64, len) != 0))
			abort();
		if (b64 != NULL) {
			if (hb_message_from_base64(b64, len, 4 * FUZZ_MAX_MESSAGE, schema, &again, &err) < 0)
				abort();
			hb_message_free(again);
		}
		free(b64);
		free(cb64);
	}
	hb_keys_free(&keys);
	hb_message_free(m);
	hb_message_free(c);
	return 0;
}
