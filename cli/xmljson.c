/* xmljson.c -- the JSON of hookctl -j: hem's XML documents mirrored key for key, with hook output decoded to text. */
#include "xmljson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"

#define OUTPUT_MAX (64u << 20) /* largest decoded STDOUT/STDERR accepted from hem */

static bool is_named(xmlNodePtr n, const char *name)
{
	return n != NULL && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

static bool is_container(xmlNodePtr n)
{
	static const char *const names[] = { "HOOK_POOL", "HOOK", "TEMPLATE", "HOOKLOG", "LOCK",
					     "HOOK_EXECUTION_RECORD", "EXECUTION_RESULT" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (is_named(n, names[i]))
			return true;
	return false;
}

/* The child name that is always an array under element n, or NULL. */
static const char *array_child(xmlNodePtr n)
{
	if (is_named(n, "HOOK_POOL"))
		return "HOOK";
	if (is_named(n, "HOOKLOG"))
		return "HOOK_EXECUTION_RECORD";
	return NULL;
}

static bool has_element_children(xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0], cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

char *hb_utf8_sanitize(const unsigned char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len * 3 + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);
		if (n == 0) {
			memcpy(p, "\xEF\xBF\xBD", 3);
			p += 3;
			i++;
		} else {
			memcpy(p, s + i, n);
			p += n;
			i += n;
		}
	}
	*p = '\0';
	*outlen = (size_t)(p - out);
	return out;
}

/* The JSON string of a leaf element: its text, or for an execution's
 * STDOUT/STDERR the decoded output. */
static int leaf(xmlNodePtr n, json_t **out, hb_error *err)
{
	xmlChar *content = xmlNodeGetContent(n);
	const char *text = content ? (const char *)content : "";
	hb_autofree unsigned char *bytes = NULL;
	hb_autofree char *clean = NULL;
	size_t len = 0;
	int rc;

	if (content == NULL && n->children != NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if ((is_named(n, "STDOUT") || is_named(n, "STDERR")) && is_named(n->parent, "EXECUTION_RESULT")) {
		rc = text[0] == '\0' ? 0 : hb_base64_decode(text, strlen(text), OUTPUT_MAX, &bytes, &len, err);
		xmlFree(content);
		if (rc < 0) {
			hb_error_prefix(err, "malformed answer from hem: %s", (const char *)n->name);
			err->code = -HB_EIO;
			return err->code;
		}
		clean = hb_utf8_sanitize(bytes ? bytes : (const unsigned char *)"", len, &len);
		if (clean == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		*out = json_stringn(clean, len);
	} else {
		*out = json_string(text);
		xmlFree(content);
	}
	return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

static int convert(xmlNodePtr n, json_t **out, hb_error *err);

/* Sets or appends value (taken) under key in obj; forced makes it an array
 * even for the first value. */
static int put(json_t *obj, const char *key, json_t *value, bool forced, hb_error *err)
{
	json_t *have = json_object_get(obj, key), *arr;

	if (have == NULL && !forced)
		return json_object_set_new(obj, key, value) == 0 ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (have != NULL && json_is_array(have))
		return json_array_append_new(have, value) == 0 ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
	arr = json_array();
	if (arr == NULL || (have != NULL && json_array_append(arr, have) < 0)) {
		json_decref(arr);
		json_decref(value);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	/* The _new calls take their argument even when they fail. */
	if (json_array_append_new(arr, value) < 0) {
		json_decref(arr);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return json_object_set_new(obj, key, arr) == 0 ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

static int object(xmlNodePtr n, json_t **out, hb_error *err)
{
	const char *forced = array_child(n);
	json_t *obj = json_object();

	if (obj == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		json_t *v = NULL;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (convert(c, &v, err) < 0 ||
		    put(obj, (const char *)c->name, v, forced && is_named(c, forced), err) < 0) {
			json_decref(obj);
			return err->code;
		}
	}
	if (forced != NULL && json_object_get(obj, forced) == NULL &&
	    json_object_set_new(obj, forced, json_array()) < 0) {
		json_decref(obj);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	*out = obj;
	return 0;
}

static int convert(xmlNodePtr n, json_t **out, hb_error *err)
{
	if (is_container(n) || has_element_children(n))
		return object(n, out, err);
	return leaf(n, out, err);
}

int hb_json_from_xml(xmlNodePtr root, json_t **out, hb_error *err)
{
	json_t *top, *v = NULL;

	if (root == NULL)
		return hb_error_set(err, -HB_EIO, "empty document");
	if (convert(root, &v, err) < 0)
		return err->code;
	top = json_object();
	if (top == NULL || json_object_set_new(top, (const char *)root->name, v) < 0) {
		json_decref(top);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	*out = top;
	return 0;
}
