/* message.c -- HOOK_MESSAGE documents: decoding, checking, building, SEQ and key derivation. */
#include "message.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"
#include "xml.h"

const char *hb_message_object_root(const char *object)
{
	return strcmp(object, "NET") == 0 ? "VNET" : object;
}

/* Whether s may stand inside a key: non-empty printable ASCII with no blank
 * and no '/', the separators of keys. */
static bool key_field_ok(const char *s, bool may_be_empty)
{
	if (s == NULL)
		return may_be_empty;
	if (*s == '\0')
		return may_be_empty;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '/')
			return false;
	return true;
}

static bool object_name_ok(const char *s)
{
	if (s == NULL || !isupper((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

void hb_message_free(hb_message *m)
{
	if (m == NULL)
		return;
	hb_message_drop_doc(m);
	free(m->call);
	free(m->object);
	free(m->state);
	free(m->lcm_state);
	free(m->resource_id);
	free(m->service_id);
	free(m->remote_host);
	free(m);
}

void hb_message_drop_doc(hb_message *m)
{
	xmlFreeDoc(m->doc);
	m->doc = NULL;
	m->body = NULL;
	free(m->src);
	m->src = NULL;
}

/* Returns the first element after node (node itself included), or NULL. */
static xmlNodePtr element_from(xmlNodePtr node)
{
	while (node != NULL && node->type != XML_ELEMENT_NODE)
		node = node->next;
	return node;
}

/* Reads the fields of an already schema-valid document into m and checks
 * what the schema cannot say. */
static int message_read(hb_message *m, hb_error *err)
{
	xmlNodePtr root = xmlDocGetRootElement(m->doc);
	hb_autofree char *type = hb_xml_child_text(root, "HOOK_TYPE");
	hb_autofree char *seq = hb_xml_child_text(root, "SEQ");

	if (type == NULL || xmlStrcmp(root->name, BAD_CAST "HOOK_MESSAGE") != 0)
		return hb_error_set(err, -HB_EINVAL, "not a HOOK_MESSAGE");
	if (seq != NULL) {
		char *end;
		errno = 0;
		m->seq = strtoull(seq, &end, 10);
		if (errno != 0 || *end != '\0' || end == seq)
			return hb_error_set(err, -HB_EINVAL, "SEQ '%s' is not a sequence number", seq);
	}
	if (strcmp(type, "API") == 0) {
		hb_autofree char *result = NULL;
		m->type = HB_MSG_API;
		m->call = hb_xml_child_text(root, "CALL");
		m->body = hb_xml_child(root, "CALL_INFO");
		result = hb_xml_child_text(m->body, "RESULT");
		if (m->call == NULL || m->body == NULL || result == NULL)
			return hb_error_set(err, -HB_EINVAL, "API message without CALL, CALL_INFO or RESULT");
		if (!key_field_ok(m->call, false))
			return hb_error_set(err, -HB_EINVAL, "CALL '%s' has blanks, '/' or control characters", m->call);
		m->result = strcmp(result, "1") == 0;
		return 0;
	}
	if (strcmp(type, "STATE") != 0)
		return hb_error_set(err, -HB_EINVAL, "unknown HOOK_TYPE '%s'", type);
	m->type = HB_MSG_STATE;
	m->object = hb_xml_child_text(root, "HOOK_OBJECT");
	m->state = hb_xml_child_text(root, "STATE");
	m->lcm_state = hb_xml_child_text(root, "LCM_STATE");
	m->resource_id = hb_xml_child_text(root, "RESOURCE_ID");
	m->service_id = hb_xml_child_text(root, "SERVICE_ID");
	m->remote_host = hb_xml_child_text(root, "REMOTE_HOST");
	if (!object_name_ok(m->object))
		return hb_error_set(err, -HB_EINVAL, "HOOK_OBJECT '%s' is not an object name", m->object ? m->object : "");
	if (!key_field_ok(m->state, false))
		return hb_error_set(err, -HB_EINVAL, "STATE '%s' is empty or has blanks, '/' or control characters", m->state ? m->state : "");
	if (!key_field_ok(m->lcm_state, true))
		return hb_error_set(err, -HB_EINVAL, "LCM_STATE '%s' has blanks, '/' or control characters", m->lcm_state);
	if (!key_field_ok(m->resource_id, false))
		return hb_error_set(err, -HB_EINVAL, "RESOURCE_ID '%s' is empty or has blanks, '/' or control characters", m->resource_id ? m->resource_id : "");
	if (m->service_id != NULL && m->service_id[0] != '\0' && !key_field_ok(m->service_id, false))
		return hb_error_set(err, -HB_EINVAL, "SERVICE_ID '%s' has blanks, '/' or control characters", m->service_id);
	/* The object document is the last element of the message. */
	for (xmlNodePtr c = element_from(root->children); c != NULL; c = element_from(c->next))
		m->body = c;
	if (m->body == NULL || xmlStrcmp(m->body->name, BAD_CAST hb_message_object_root(m->object)) != 0)
		return hb_error_set(err, -HB_EINVAL, "the object document of a %s event must be <%s>",
				    m->object, hb_message_object_root(m->object));
	return 0;
}

/* Takes doc (freed on every path) and makes a checked message of it. */
static int message_from_doc(xmlDocPtr doc, hb_schema *schema, hb_message **out, hb_error *err)
{
	hb_message *m;
	int rc;

	if (schema != NULL) {
		rc = hb_schema_validate(schema, doc, err);
		if (rc < 0) {
			xmlFreeDoc(doc);
			return rc;
		}
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		xmlFreeDoc(doc);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	m->doc = doc;
	rc = message_read(m, err);
	if (rc < 0) {
		hb_message_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Parses xml into a checked message.  With a codec, the message keeps xml
 * as its source text when that is its own serialization: *own (a malloc'd
 * buffer holding xml, or NULL for one to copy) is then taken. */
static int message_parse(hb_xml_codec *codec, const char *xml, size_t len, char **own, hb_schema *schema,
			 hb_message **out, hb_error *err)
{
	xmlDocPtr doc = NULL;
	hb_message *m = NULL;
	size_t at = 0;
	int rc = codec ? hb_xml_codec_parse(codec, xml, len, &doc, err) : hb_xml_parse(xml, len, &doc, err);

	if (rc < 0)
		return rc;
	rc = message_from_doc(doc, schema, &m, err);
	if (rc < 0)
		return rc;
	if (codec != NULL && hb_xml_codec_verbatim(xml, len, "HOOK_TYPE", "SEQ", &at) && at > 0) {
		if (own != NULL && *own != NULL) {
			m->src = hb_steal(own);
		} else if ((m->src = malloc(len + 1)) != NULL) {
			memcpy(m->src, xml, len);
			m->src[len] = '\0';
		}
		m->src_len = len;
		m->seq_at = at;
	}
	*out = m;
	return 0;
}

int hb_message_parse(hb_xml_codec *codec, const char *xml, size_t len, hb_schema *schema,
		     hb_message **out, hb_error *err)
{
	return message_parse(codec, xml, len, NULL, schema, out, err);
}

int hb_message_from_xml(const char *xml, size_t len, hb_schema *schema, hb_message **out,
			hb_error *err)
{
	return message_parse(NULL, xml, len, NULL, schema, out, err);
}

int hb_message_decode(hb_xml_codec *codec, const char *b64, size_t len, size_t max, hb_schema *schema,
		      hb_message **out, hb_error *err)
{
	unsigned char *xml = NULL;
	char *own;
	size_t xlen;
	int rc;

	rc = hb_base64_decode(b64, len, max, &xml, &xlen, err);
	if (rc < 0)
		return rc;
	own = (char *)xml;
	rc = message_parse(codec, own, xlen, &own, schema, out, err);
	free(own);
	return rc;
}

int hb_message_from_base64(const char *b64, size_t len, size_t max, hb_schema *schema,
			   hb_message **out, hb_error *err)
{
	return hb_message_decode(NULL, b64, len, max, schema, out, err);
}

/* Starts a new document with <HOOK_MESSAGE><HOOK_TYPE>type</HOOK_TYPE>. */
static xmlDocPtr message_doc_new(const char *type, xmlNodePtr *root)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");

	if (doc == NULL)
		return NULL;
	*root = xmlNewDocNode(doc, NULL, BAD_CAST "HOOK_MESSAGE", NULL);
	if (*root == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, *root);
	if (hb_xml_add(*root, "HOOK_TYPE", type) == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static int add_params(xmlNodePtr params, const char *type, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		xmlNodePtr p = hb_xml_add(params, "PARAMETER", NULL);
		if (p == NULL || hb_xml_addf(p, "POSITION", "%zu", i + 1) == NULL ||
		    hb_xml_add(p, "TYPE", type) == NULL || hb_xml_add(p, "VALUE", v[i]) == NULL)
			return -1;
	}
	return 0;
}

int hb_message_new_api(const char *call, int result, const char *const *in, size_t nin,
		       const char *const *outp, size_t nout, const char *extra_xml,
		       hb_message **out, hb_error *err)
{
	xmlNodePtr root, info, params;
	xmlDocPtr doc;

	if (!key_field_ok(call, false))
		return hb_error_set(err, -HB_EINVAL, "API call '%s' is empty or has blanks, '/' or control characters", call ? call : "");
	if (result != 0 && result != 1)
		return hb_error_set(err, -HB_EINVAL, "API result must be 0 or 1");
	doc = message_doc_new("API", &root);
	if (doc == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (hb_xml_add(root, "CALL", call) == NULL || (info = hb_xml_add(root, "CALL_INFO", NULL)) == NULL ||
	    hb_xml_addf(info, "RESULT", "%d", result) == NULL ||
	    (params = hb_xml_add(info, "PARAMETERS", NULL)) == NULL ||
	    add_params(params, "IN", in, nin) < 0 || add_params(params, "OUT", outp, nout) < 0) {
		xmlFreeDoc(doc);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (extra_xml != NULL) {
		xmlNodePtr extra = hb_xml_add(info, "EXTRA", NULL), el = NULL;
		int rc;
		if (extra == NULL) {
			xmlFreeDoc(doc);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		rc = hb_xml_parse_element(doc, extra_xml, strlen(extra_xml), &el, err);
		if (rc < 0) {
			xmlFreeDoc(doc);
			return hb_error_prefix(err, "EXTRA");
		}
		xmlAddChild(extra, el);
	}
	return message_from_doc(doc, NULL, out, err);
}

int hb_message_new_state(const hb_state_event *ev, xmlNodePtr object_doc, hb_message **out,
			 hb_error *err)
{
	bool vm, host, bare;
	const char *root_name;
	xmlNodePtr root, body;
	xmlDocPtr doc;
	int ok;

	if (!object_name_ok(ev->object))
		return hb_error_set(err, -HB_EINVAL, "object '%s' is not an object name ([A-Z][A-Z0-9_]*)", ev->object ? ev->object : "");
	vm = strcmp(ev->object, "VM") == 0;
	host = strcmp(ev->object, "HOST") == 0;
	bare = strcmp(ev->object, "IMAGE") == 0 || strcmp(ev->object, "NET") == 0;
	if (vm && ev->lcm_state == NULL)
		return hb_error_set(err, -HB_EINVAL, "a VM event needs an LCM state");
	if (!vm && ev->lcm_state != NULL)
		return hb_error_set(err, -HB_EINVAL, "only VM events have an LCM state");
	if (bare && ev->remote_host != NULL)
		return hb_error_set(err, -HB_EINVAL, "%s events carry no REMOTE_HOST", ev->object);
	if ((bare || host) && ev->service_id != NULL)
		return hb_error_set(err, -HB_EINVAL, "%s events carry no SERVICE_ID", ev->object);
	root_name = hb_message_object_root(ev->object);
	if (object_doc != NULL && xmlStrcmp(object_doc->name, BAD_CAST root_name) != 0)
		return hb_error_set(err, -HB_EINVAL, "the object document of a %s event must be <%s>, not <%s>",
				    ev->object, root_name, (const char *)object_doc->name);
	doc = message_doc_new("STATE", &root);
	if (doc == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	ok = hb_xml_add(root, "HOOK_OBJECT", ev->object) && hb_xml_add(root, "STATE", ev->state);
	if (ok && vm)
		ok = hb_xml_add(root, "LCM_STATE", ev->lcm_state) != NULL;
	if (ok && host)
		ok = hb_xml_add(root, "REMOTE_HOST", ev->remote_host ? ev->remote_host : "") != NULL;
	if (ok)
		ok = hb_xml_add(root, "RESOURCE_ID", ev->id) != NULL;
	if (ok && !host && !bare) {
		if (ev->service_id != NULL)
			ok = hb_xml_add(root, "SERVICE_ID", ev->service_id) != NULL;
		if (ok)
			ok = hb_xml_add(root, "REMOTE_HOST", ev->remote_host ? ev->remote_host : "") != NULL;
	}
	if (ok) {
		if (object_doc != NULL) {
			body = xmlDocCopyNode(object_doc, doc, 1);
			ok = body != NULL && xmlAddChild(root, body) != NULL;
		} else {
			body = hb_xml_add(root, root_name, NULL);
			ok = body != NULL && hb_xml_add(body, "ID", ev->id) != NULL;
		}
	}
	if (!ok) {
		xmlFreeDoc(doc);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return message_from_doc(doc, NULL, out, err);
}

int hb_message_set_seq(hb_message *m, uint64_t seq, hb_error *err)
{
	xmlNodePtr root = xmlDocGetRootElement(m->doc);
	xmlNodePtr type = hb_xml_child(root, "HOOK_TYPE");
	xmlNodePtr old = hb_xml_child(root, "SEQ");
	char text[32];
	xmlNodePtr node;

	snprintf(text, sizeof(text), "%" PRIu64, seq);
	if (old != NULL) {
		xmlNodeSetContent(old, BAD_CAST text);
	} else {
		node = xmlNewDocNode(m->doc, NULL, BAD_CAST "SEQ", BAD_CAST text);
		if (node == NULL || xmlAddNextSibling(type, node) == NULL) {
			xmlFreeNode(node);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
	}
	m->seq = seq;
	m->seq_set = true;
	return 0;
}

/* The base64 of m's source text with <SEQ>seq</SEQ> right after HOOK_TYPE:
 * the bytes the serializer would write for m's document. */
static char *encode_source(const hb_message *m, size_t *len)
{
	char seq[48];
	int n = m->seq_set ? snprintf(seq, sizeof(seq), "<SEQ>%" PRIu64 "</SEQ>", m->seq) : 0;
	hb_autofree char *xml = malloc(m->src_len + (size_t)n);

	if (xml == NULL)
		return NULL;
	memcpy(xml, m->src, m->seq_at);
	memcpy(xml + m->seq_at, seq, (size_t)n);
	memcpy(xml + m->seq_at + (size_t)n, m->src + m->seq_at, m->src_len - m->seq_at);
	return hb_base64_encode(xml, m->src_len + (size_t)n, len);
}

char *hb_message_encode(hb_xml_codec *codec, const hb_message *m, size_t *len)
{
	hb_autofree char *own = NULL;
	const char *xml;
	size_t xlen;

	if (m->src != NULL)
		return encode_source(m, len);
	if (codec != NULL)
		xml = hb_xml_codec_dump(codec, xmlDocGetRootElement(m->doc), &xlen);
	else
		xml = own = hb_xml_dump(xmlDocGetRootElement(m->doc), &xlen);
	if (xml == NULL)
		return NULL;
	return hb_base64_encode(xml, xlen, len);
}

char *hb_message_to_base64(const hb_message *m, size_t *len)
{
	return hb_message_encode(NULL, m, len);
}

static int key_add(hb_keys *keys, hb_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int key_add(hb_keys *keys, hb_error *err, const char *fmt, ...)
{
	char buf[HB_KEY_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || n > HB_KEY_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "event key longer than %d bytes", HB_KEY_MAX);
	keys->key[keys->n] = strdup(buf);
	if (keys->key[keys->n] == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	keys->n++;
	return 0;
}

int hb_message_keys(const hb_message *m, hb_keys *keys, hb_error *err)
{
	const char *lcm;
	int rc;

	keys->n = 0;
	if (m->type == HB_MSG_API)
		return key_add(keys, err, "EVENT API %s %d", m->call, m->result);
	lcm = m->lcm_state ? m->lcm_state : "";
	rc = key_add(keys, err, "EVENT %s %s/%s/%s ", m->object, m->resource_id, m->state, lcm);
	if (rc == 0)
		rc = key_add(keys, err, "EVENT STATE %s/%s/%s/%s ", m->object, m->state, lcm, m->resource_id);
	if (rc == 0 && m->service_id != NULL && m->service_id[0] != '\0')
		rc = key_add(keys, err, "EVENT SERVICE %s ", m->service_id);
	if (rc < 0)
		hb_keys_free(keys);
	return rc;
}

void hb_keys_free(hb_keys *keys)
{
	for (size_t i = 0; i < keys->n; i++)
		free(keys->key[i]);
	keys->n = 0;
}
