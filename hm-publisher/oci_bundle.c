/* oci_bundle.c -- `install-oci-hook --bundle`: oci-hook's entries in the hooks of an OCI bundle's config.json, rewritten atomically. */
#include "oci_bundle.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fsutil.h"

#define CONFIG_MAX (16u << 20)   /* largest config.json read */

static void json_cleanup(json_t **j)
{
	json_decref(*j);
}

/* Whether the hook object entry runs this program's oci-hook: its path is
 * exe or a file named hm-publisher, and args[1] is "oci-hook". */
static bool is_ours(json_t *entry, const char *exe)
{
	json_t *path = json_object_get(entry, "path"), *args = json_object_get(entry, "args");
	json_t *verb = json_array_get(args, 1);
	const char *p, *base;

	if (!json_is_string(path) || !json_is_string(verb) || strcmp(json_string_value(verb), "oci-hook") != 0)
		return false;
	p = json_string_value(path);
	base = strrchr(p, '/');
	return strcmp(p, exe) == 0 || strcmp(base ? base + 1 : p, "hm-publisher") == 0;
}

static bool asked(const struct hb_install_args *a, const hb_oci_stage *st)
{
	for (size_t i = 0; i < a->nstages; i++)
		if (a->stages[i] == st)
			return true;
	return false;
}

/* Brings the hooks object of the document in line with a (see
 * hb_oci_bundle_install()); *removed counts the entries taken out. */
static int edit_hooks(const struct hb_install_args *a, const char *exe, json_t *hooks, size_t *removed,
		      hb_error *err)
{
	for (size_t s = 0; s < HB_OCI_NSTAGES; s++) {
		const hb_oci_stage *st = &hb_oci_stages[s];
		bool add = !a->uninstall && asked(a, st);
		bool clear = !a->uninstall || asked(a, st);
		json_t *arr = json_object_get(hooks, st->oci), *entry;
		size_t at = SIZE_MAX, before;

		if (arr != NULL && !json_is_array(arr))
			return hb_error_set(err, -HB_EINVAL, "hooks.%s is not an array", st->oci);
		before = json_array_size(arr);
		for (size_t i = 0; clear && i < json_array_size(arr);) {
			if (!is_ours(json_array_get(arr, i), exe)) {
				i++;
				continue;
			}
			if (at == SIZE_MAX)
				at = i;
			json_array_remove(arr, i);
			(*removed)++;
		}
		if (add) {
			if (arr == NULL && (json_object_set_new(hooks, st->oci, arr = json_array()) < 0 || arr == NULL))
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			entry = hb_oci_hook_entry(a, exe, st);
			if (entry == NULL || (at == SIZE_MAX ? json_array_append_new(arr, entry) :
					      json_array_insert_new(arr, at, entry)) < 0)
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
		} else if (arr != NULL && before > 0 && json_array_size(arr) == 0) {
			json_object_del(hooks, st->oci);
		}
	}
	return 0;
}

/* Replaces path (in dir) by text through a temporary file and a rename,
 * with the mode and owner of st. */
static int replace_file(const char *dir, const char *path, const char *text, const struct stat *st, hb_error *err)
{
	hb_autofree char *tmp = NULL;

	if (hb_oci_write_temp(dir, "config.json", text, st->st_mode & 07777, &tmp, err) < 0)
		return err->code;
	if (geteuid() == 0 && (st->st_uid != 0 || st->st_gid != 0) && chown(tmp, st->st_uid, st->st_gid) < 0) {
		hb_error_set(err, -HB_EIO, "cannot give %s the owner of %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return err->code;
	}
	if (rename(tmp, path) < 0) {
		hb_error_set(err, -HB_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return err->code;
	}
	hb_oci_sync_dir(dir);
	return 0;
}

int hb_oci_bundle_install(const struct hb_install_args *a, hb_error *err)
{
	__attribute__((cleanup(json_cleanup))) json_t *root = NULL;
	hb_autofree char *path = NULL;
	hb_autofree char *text = NULL;
	hb_autofree char *out = NULL;
	char exe[PATH_MAX];
	json_error_t jerr;
	json_t *hooks;
	struct stat st;
	size_t len, removed = 0;

	if (hb_oci_self_path(exe, sizeof(exe), err) < 0)
		return err->code;
	if (asprintf(&path, "%s/config.json", a->bundle) < 0) {
		path = NULL;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (stat(path, &st) < 0)
		return hb_error_set(err, -HB_EIO, "%s: %s", path, strerror(errno));
	if (hb_file_read(path, CONFIG_MAX, &text, &len, err) < 0)
		return hb_error_prefix(err, "%s", path);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return hb_error_set(err, -HB_EINVAL, "%s is not JSON: %s (line %d)", path, jerr.text, jerr.line);
	if (!json_is_object(root))
		return hb_error_set(err, -HB_EINVAL, "%s is not a JSON object", path);
	hooks = json_object_get(root, "hooks");
	if (hooks == NULL && !a->uninstall) {
		hooks = json_object();
		if (hooks == NULL || json_object_set_new(root, "hooks", hooks) < 0)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (hooks != NULL && !json_is_object(hooks))
		return hb_error_set(err, -HB_EINVAL, "%s: hooks is not an object", path);
	if (hooks != NULL && edit_hooks(a, exe, hooks, &removed, err) < 0)
		return hb_error_prefix(err, "%s", path);
	if (hooks != NULL && removed > 0 && json_object_size(hooks) == 0)
		json_object_del(root, "hooks");
	out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (out == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (replace_file(a->bundle, path, out, &st, err) < 0)
		return err->code;
	for (size_t i = 0; i < a->nstages; i++)
		printf("%s %s: hooks.%s\n", a->uninstall ? "removed from" : "installed in", path, a->stages[i]->oci);
	return 0;
}
