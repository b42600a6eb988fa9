/* oci_state.c -- reads an OCI container's state JSON and its bundle's config.json into plain structs. */
#include "oci_state.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cleanup.h"
#include "fsutil.h"

static void json_cleanup(json_t **j)
{
	json_decref(*j);
}
#define hb_autojson __attribute__((cleanup(json_cleanup)))

static void strv_free(hb_oci_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

/* Parses len bytes (at most max) as a JSON object, duplicate keys refused, into *out. */
static int load_object(const char *json, size_t len, size_t max, json_t **out, hb_error *err)
{
	json_error_t jerr;
	json_t *root;

	if (len > max)
		return hb_error_set(err, -HB_ETOOBIG, "larger than %zu bytes", max);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return hb_error_set(err, -HB_EINVAL, "not valid JSON (line %d, column %d): %s",
				    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return hb_error_set(err, -HB_EINVAL, "not a JSON object");
	}
	*out = root;
	return 0;
}

/* Copies member name of obj into *out when it is a string; absent (or
 * null) leaves *out NULL unless required.  path names obj in messages. */
static int get_string(json_t *obj, const char *path, const char *name, bool required, char **out,
		      hb_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return hb_error_set(err, -HB_EINVAL, "%s%s is missing", path, name);
		return 0;
	}
	if (!json_is_string(v))
		return hb_error_set(err, -HB_EINVAL, "%s%s is not a string", path, name);
	*out = strdup(json_string_value(v));
	return *out ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

/* Reads member name of obj as a boolean into *out (1/0), -1 when absent. */
static int get_bool(json_t *obj, const char *path, const char *name, int *out, hb_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return hb_error_set(err, -HB_EINVAL, "%s%s is not a boolean", path, name);
	*out = json_is_true(v);
	return 0;
}

/* Reads member name of obj as an integer in [0, max] into *out; *found
 * says whether it was there. */
static int get_uint(json_t *obj, const char *path, const char *name, unsigned long long max,
		    unsigned long long *out, bool *found, hb_error *err)
{
	json_t *v = json_object_get(obj, name);

	*found = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max)
		return hb_error_set(err, -HB_EINVAL, "%s%s is not an integer from 0 to %llu", path, name, max);
	*out = (unsigned long long)json_integer_value(v);
	*found = true;
	return 0;
}

/* Returns member name of obj when it is an object (NULL when absent); a
 * member of another type is an error. */
static int get_object(json_t *obj, const char *path, const char *name, json_t **out, hb_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return hb_error_set(err, -HB_EINVAL, "%s%s is not an object", path, name);
	*out = v;
	return 0;
}

/* Returns member name of obj when it is an array (NULL when absent). */
static int get_array(json_t *obj, const char *path, const char *name, json_t **out, hb_error *err)
{
	json_t *v = json_object_get(obj, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return hb_error_set(err, -HB_EINVAL, "%s%s is not an array", path, name);
	*out = v;
	return 0;
}

/* Copies member name of obj, an array of strings (absent: empty), into sv;
 * numbers are accepted too when numbers_ok, written in decimal (additionalGids). */
static int get_strv(json_t *obj, const char *path, const char *name, bool numbers_ok, hb_oci_strv *sv,
		    hb_error *err)
{
	json_t *arr, *v;
	size_t i;
	int rc = get_array(obj, path, name, &arr, err);

	if (rc < 0 || arr == NULL)
		return rc;
	sv->v = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (sv->v == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	json_array_foreach(arr, i, v) {
		char *s = NULL;
		if (json_is_string(v))
			s = strdup(json_string_value(v));
		else if (numbers_ok && json_is_integer(v))
			rc = asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0 ? -1 : 0;
		else
			return hb_error_set(err, -HB_EINVAL, "%s%s[%zu] is not a %s", path, name, i,
					    numbers_ok ? "number" : "string");
		if (s == NULL || rc < 0)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		sv->v[sv->n++] = s;
	}
	return 0;
}

/* Whether id can be a RESOURCE_ID (a field of the bus keys). */
static bool id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > HB_OCI_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '/')
			return false;
	return true;
}

void hb_oci_state_free(hb_oci_state *s)
{
	if (s == NULL)
		return;
	free(s->oci_version);
	free(s->id);
	free(s->status);
	free(s->bundle);
	for (size_t i = 0; i < s->nannotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->annotations);
	free(s);
}

static int state_annotations(json_t *root, hb_oci_state *s, hb_error *err)
{
	const char *key;
	json_t *obj, *v;
	int rc = get_object(root, "", "annotations", &obj, err);

	if (rc < 0 || obj == NULL)
		return rc;
	s->annotations = calloc(json_object_size(obj) + 1, sizeof(hb_oci_pair));
	if (s->annotations == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	json_object_foreach(obj, key, v) {
		hb_oci_pair *p = &s->annotations[s->nannotations];
		if (!json_is_string(v))
			return hb_error_set(err, -HB_EINVAL, "annotation '%.200s' is not a string", key);
		p->key = strdup(key);
		p->value = strdup(json_string_value(v));
		s->nannotations++;
		if (p->key == NULL || p->value == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return 0;
}

int hb_oci_state_parse(const char *json, size_t len, hb_oci_state **out, hb_error *err)
{
	hb_autojson json_t *root = NULL;
	hb_oci_state *s;
	unsigned long long pid;
	bool has_pid;
	int rc;

	rc = load_object(json, len, HB_OCI_STATE_MAX, &root, err);
	if (rc < 0)
		return hb_error_prefix(err, "container state");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	s->pid = -1;
	rc = get_string(root, "", "ociVersion", true, &s->oci_version, err);
	if (rc == 0)
		rc = get_string(root, "", "id", true, &s->id, err);
	if (rc == 0 && !id_ok(s->id))
		rc = hb_error_set(err, -HB_EINVAL, "id '%.64s%s' is not a usable container id (1 to %d "
				  "printable ASCII characters, no blank or '/')", s->id,
				  strlen(s->id) > 64 ? "..." : "", HB_OCI_ID_MAX);
	if (rc == 0)
		rc = get_string(root, "", "status", true, &s->status, err);
	if (rc == 0)
		rc = get_string(root, "", "bundle", false, &s->bundle, err);
	if (rc == 0)
		rc = get_uint(root, "", "pid", INT32_MAX, &pid, &has_pid, err);
	if (rc == 0 && has_pid)
		s->pid = (long long)pid;
	if (rc == 0)
		rc = state_annotations(root, s, err);
	if (rc < 0) {
		hb_oci_state_free(s);
		return hb_error_prefix(err, "container state");
	}
	*out = s;
	return 0;
}

void hb_oci_config_free(hb_oci_config *c)
{
	if (c == NULL)
		return;
	free(c->hostname);
	strv_free(&c->args);
	strv_free(&c->additional_gids);
	free(c->root_path);
	strv_free(&c->cap_bounding);
	strv_free(&c->cap_effective);
	for (size_t i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		strv_free(&c->mounts[i].options);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->nnamespaces; i++) {
		free(c->namespaces[i].type);
		free(c->namespaces[i].path);
	}
	free(c->namespaces);
	free(c);
}

/* process: args, user, noNewPrivileges, capabilities. */
static int config_process(json_t *root, hb_oci_config *c, hb_error *err)
{
	json_t *proc, *user, *caps;
	bool has_uid, has_gid;
	int rc = get_object(root, "", "process", &proc, err);

	if (rc < 0 || proc == NULL)
		return rc;
	if ((rc = get_strv(proc, "process.", "args", false, &c->args, err)) < 0 ||
	    (rc = get_bool(proc, "process.", "noNewPrivileges", &c->no_new_privileges, err)) < 0 ||
	    (rc = get_object(proc, "process.", "user", &user, err)) < 0 ||
	    (rc = get_object(proc, "process.", "capabilities", &caps, err)) < 0)
		return rc;
	if (user != NULL) {
		if ((rc = get_uint(user, "process.user.", "uid", UINT32_MAX, &c->uid, &has_uid, err)) < 0 ||
		    (rc = get_uint(user, "process.user.", "gid", UINT32_MAX, &c->gid, &has_gid, err)) < 0 ||
		    (rc = get_strv(user, "process.user.", "additionalGids", true, &c->additional_gids, err)) < 0)
			return rc;
		c->has_user = has_uid || has_gid;
	}
	if (caps != NULL) {
		c->has_capabilities = true;
		if ((rc = get_strv(caps, "process.capabilities.", "bounding", false, &c->cap_bounding, err)) < 0 ||
		    (rc = get_strv(caps, "process.capabilities.", "effective", false, &c->cap_effective, err)) < 0)
			return rc;
	}
	return 0;
}

static int config_mounts(json_t *root, hb_oci_config *c, hb_error *err)
{
	json_t *arr, *m;
	size_t i;
	int rc = get_array(root, "", "mounts", &arr, err);

	if (rc < 0 || arr == NULL)
		return rc;
	c->mounts = calloc(json_array_size(arr) + 1, sizeof(hb_oci_mount));
	if (c->mounts == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	json_array_foreach(arr, i, m) {
		hb_oci_mount *mt = &c->mounts[c->nmounts];
		char path[32];
		if (!json_is_object(m))
			return hb_error_set(err, -HB_EINVAL, "mounts[%zu] is not an object", i);
		c->nmounts++;
		snprintf(path, sizeof(path), "mounts[%zu].", i);
		if ((rc = get_string(m, path, "destination", true, &mt->destination, err)) < 0 ||
		    (rc = get_string(m, path, "type", false, &mt->type, err)) < 0 ||
		    (rc = get_string(m, path, "source", false, &mt->source, err)) < 0 ||
		    (rc = get_strv(m, path, "options", false, &mt->options, err)) < 0)
			return rc;
	}
	return 0;
}

static int config_namespaces(json_t *root, hb_oci_config *c, hb_error *err)
{
	json_t *linux_obj, *arr, *ns;
	size_t i;
	int rc = get_object(root, "", "linux", &linux_obj, err);

	if (rc < 0 || linux_obj == NULL)
		return rc;
	rc = get_array(linux_obj, "linux.", "namespaces", &arr, err);
	if (rc < 0 || arr == NULL)
		return rc;
	c->namespaces = calloc(json_array_size(arr) + 1, sizeof(hb_oci_namespace));
	if (c->namespaces == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	json_array_foreach(arr, i, ns) {
		hb_oci_namespace *n = &c->namespaces[c->nnamespaces];
		char path[40];
		if (!json_is_object(ns))
			return hb_error_set(err, -HB_EINVAL, "linux.namespaces[%zu] is not an object", i);
		c->nnamespaces++;
		snprintf(path, sizeof(path), "linux.namespaces[%zu].", i);
		if ((rc = get_string(ns, path, "type", true, &n->type, err)) < 0 ||
		    (rc = get_string(ns, path, "path", false, &n->path, err)) < 0)
			return rc;
	}
	return 0;
}

int hb_oci_config_parse(const char *json, size_t len, hb_oci_config **out, hb_error *err)
{
	hb_autojson json_t *root = NULL;
	hb_oci_config *c;
	json_t *rootfs;
	int rc;

	rc = load_object(json, len, HB_OCI_CONFIG_MAX, &root, err);
	if (rc < 0)
		return hb_error_prefix(err, "config.json");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	c->root_readonly = -1;
	c->no_new_privileges = -1;
	rc = get_string(root, "", "hostname", false, &c->hostname, err);
	if (rc == 0)
		rc = config_process(root, c, err);
	if (rc == 0)
		rc = get_object(root, "", "root", &rootfs, err);
	if (rc == 0 && rootfs != NULL) {
		rc = get_string(rootfs, "root.", "path", false, &c->root_path, err);
		if (rc == 0)
			rc = get_bool(rootfs, "root.", "readonly", &c->root_readonly, err);
	}
	if (rc == 0)
		rc = config_mounts(root, c, err);
	if (rc == 0)
		rc = config_namespaces(root, c, err);
	if (rc < 0) {
		hb_oci_config_free(c);
		return hb_error_prefix(err, "config.json");
	}
	*out = c;
	return 0;
}

int hb_oci_config_load(const char *bundle, hb_oci_config **out, char **text_out, size_t *len_out, hb_error *err)
{
	hb_autofree char *path = NULL;
	hb_autofree char *text = NULL;
	size_t len;
	int rc;

	if (asprintf(&path, "%s/config.json", bundle) < 0) {
		path = NULL;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	rc = hb_file_read(path, HB_OCI_CONFIG_MAX, &text, &len, err);
	if (rc < 0)
		return rc;
	rc = hb_oci_config_parse(text, len, out, err);
	if (rc < 0)
		return hb_error_prefix(err, "%s", bundle);
	if (text_out != NULL) {
		*text_out = hb_steal(&text);
		*len_out = len;
	}
	return 0;
}
