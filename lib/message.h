/* message.h -- the bus message codec: HOOK_MESSAGE documents, their SEQ, base64 and keys. */
#ifndef HB_MESSAGE_H
#define HB_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "error.h"
#include "schema.h"
#include "xmlcodec.h"

typedef enum { HB_MSG_API = 1, HB_MSG_STATE = 2 } hb_msg_type;

#define HB_KEY_MAX 1024    /* longest key hookbus derives */
#define HB_KEYS_MAX 3      /* a state event has at most three keys */

/*
 * A decoded HOOK_MESSAGE.  Every string is owned by the message and is NULL
 * when the element is absent (STATE fields for an API message and vice
 * versa).  body points into doc: CALL_INFO for API, the object document for
 * STATE (what $API and $TEMPLATE expand to).
 */
typedef struct hb_message {
	xmlDocPtr doc;
	hb_msg_type type;
	uint64_t seq;           /* 0 when the document has no SEQ */
	char *call;             /* API */
	int result;             /* API: 0 or 1 */
	char *object;           /* STATE: VM, HOST, IMAGE, NET, CONTAINER, ... */
	char *state;
	char *lcm_state;
	char *resource_id;
	char *service_id;
	char *remote_host;
	xmlNodePtr body;
	/* Decoded with a codec: the text the document was parsed from, kept
	 * when it is its own serialization (hb_xml_codec_verbatim()), so that
	 * encoding inserts SEQ into it instead of serializing the document
	 * again; NULL otherwise.  Only hb_message_set_seq() may then change
	 * doc. */
	char *src;
	size_t src_len;
	size_t seq_at;          /* where SEQ goes in src: right after HOOK_TYPE */
	bool seq_set;           /* hb_message_set_seq() was called */
} hb_message;

/* The keys a message is published under, in publishing order. */
typedef struct hb_keys {
	char *key[HB_KEYS_MAX];
	size_t n;
} hb_keys;

/* What an emitter says of a state event (the strings are borrowed). */
typedef struct hb_state_event {
	const char *object;      /* required, [A-Z][A-Z0-9_]* */
	const char *id;          /* required: RESOURCE_ID */
	const char *state;       /* required */
	const char *lcm_state;   /* VM: required; others: must be NULL */
	const char *remote_host; /* VM, HOST and other objects; NULL = empty */
	const char *service_id;  /* VM and other objects; NULL = none */
} hb_state_event;

/* Parses and checks an XML HOOK_MESSAGE: well-formed, valid against schema
 * (hook_message.xsd), the object document's root named after HOOK_OBJECT
 * (NET's is VNET), and every field that goes into a key free of blanks, '/'
 * and control characters.  *out is freed with hb_message_free(). */
int hb_message_from_xml(const char *xml, size_t len, hb_schema *schema, hb_message **out,
			hb_error *err);

/* Decodes base64 (at most max decoded bytes), then hb_message_from_xml(). */
int hb_message_from_base64(const char *b64, size_t len, size_t max, hb_schema *schema,
			   hb_message **out, hb_error *err);

/* hb_message_from_xml() with codec's parser context (lib/xmlcodec.h), kept
 * from one message to the next; codec NULL parses with a context of its own.
 * With a codec, the message keeps a copy of xml when it can (see src). */
int hb_message_parse(hb_xml_codec *codec, const char *xml, size_t len, hb_schema *schema,
		     hb_message **out, hb_error *err);

/* hb_message_from_base64() with codec's parser context (codec may be NULL);
 * with a codec, the message keeps the decoded text when it can (see src). */
int hb_message_decode(hb_xml_codec *codec, const char *b64, size_t len, size_t max, hb_schema *schema,
		      hb_message **out, hb_error *err);

/* Builds an API message.  in[] and outp[] are the IN and OUT parameter
 * values (positions from 1 in each); extra_xml, when non-NULL, is an XML
 * element put inside EXTRA. */
int hb_message_new_api(const char *call, int result, const char *const *in, size_t nin,
		       const char *const *outp, size_t nout, const char *extra_xml,
		       hb_message **out, hb_error *err);

/* Builds a state message with the elements in OpenNebula's order for the
 * object.  object_doc, when non-NULL, is copied as the object document (its
 * root must be named after the object); NULL gives <OBJ><ID>id</ID></OBJ>. */
int hb_message_new_state(const hb_state_event *ev, xmlNodePtr object_doc, hb_message **out,
			 hb_error *err);

/* Frees m; accepts NULL. */
void hb_message_free(hb_message *m);

/* Frees m's document and source text, once it is encoded: m keeps the
 * fields read from them (type, call, state...), doc and body become NULL,
 * and m can no longer be encoded.  Documents parsed by one codec share its
 * dictionary; freeing them in several threads at once is safe (libxml2
 * counts the dictionary's users under a lock), changing them is not. */
void hb_message_drop_doc(hb_message *m);

/* Sets (or replaces) the SEQ element right after HOOK_TYPE. */
int hb_message_set_seq(hb_message *m, uint64_t seq, hb_error *err);

/* Serializes the document and returns its base64 (no line breaks) as a new
 * string the caller frees, with its length in *len; NULL when out of memory. */
char *hb_message_to_base64(const hb_message *m, size_t *len);

/* hb_message_to_base64() with codec's serializer (codec may be NULL): the
 * same bytes.  A message that kept its source text is not serialized again:
 * its SEQ is put into that text. */
char *hb_message_encode(hb_xml_codec *codec, const hb_message *m, size_t *len);

/* Derives the keys of DESIGN section 2, byte-exact with OpenNebula:
 *   API:   "EVENT API <call> <result>"
 *   STATE: "EVENT <OBJ> <ID>/<STATE>/<LCM> ", "EVENT STATE <OBJ>/<STATE>/<LCM>/<ID> "
 *          and "EVENT SERVICE <SERVICE_ID> " when SERVICE_ID is present.
 * keys is filled with new strings freed by hb_keys_free(). */
int hb_message_keys(const hb_message *m, hb_keys *keys, hb_error *err);

/* Frees the strings of keys and empties it; accepts an empty one. */
void hb_keys_free(hb_keys *keys);

/* The root element name of an object's document: VNET for NET, else the
 * object name itself (the string is static or object). */
const char *hb_message_object_root(const char *object);

#endif
