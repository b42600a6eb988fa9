/* oci_install.c -- `install-oci-hook`: its options, and the hooks.d 1.0.0 descriptors of `oci-hook` (one per stage), written atomically or removed. */
#include "oci_install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "emit.h"
#include "fsutil.h"
#include "oci_bundle.h"
#include "oci_hook.h"
#include "oci_stage.h"

#define DEFAULT_NAME "hookbus"
#define NAME_MAX_LEN 100

/* The stages installed when no --stage is given: the ones that run in the
 * runtime's namespaces, where the node's bus is reachable. */
static const char *const default_stages[] = { "createRuntime", "poststart", "poststop" };

static void install_usage(FILE *out)
{
	fputs("usage: hm-publisher install-oci-hook --hooks-dir DIR [--stage S]... [--name NAME]\n"
	      "           [--annotation KEY_RE=VALUE_RE]... [--command RE]... [--has-bind-mounts]\n"
	      "           [--timeout S] [--fail-closed] [--wait [--hem-endpoint E]] [--endpoint E] [-c FILE]\n"
	      "       hm-publisher install-oci-hook --hooks-dir DIR --uninstall [--name NAME] [--stage S]...\n"
	      "       hm-publisher install-oci-hook --bundle DIR [--stage S]... [--timeout S] [--fail-closed]\n"
	      "           [--wait [--hem-endpoint E]] [--endpoint E] [-c FILE]\n"
	      "       hm-publisher install-oci-hook --bundle DIR --uninstall [--stage S]...\n"
	      "Writes DIR/NAME-STAGE.json, a hooks.d descriptor (version 1.0.0, as CRI-O and\n"
	      "podman read them) that runs `hm-publisher oci-hook STAGE` at STAGE, for each\n"
	      "stage, and removes NAME's descriptors of the other stages.  Each file is written\n"
	      "to a temporary file in DIR, then renamed; the mode is 0644.\n"
	      "With --bundle, adds the hook to the `hooks` of the bundle's config.json instead\n"
	      "(as umoci and oci-add-hooks do): one entry per stage, replacing this program's\n"
	      "earlier entries (a path named hm-publisher with the argument oci-hook) and\n"
	      "removing them from the other stages; the rest of the document is kept.  The\n"
	      "file is rewritten through a temporary file and a rename, with its mode and owner.\n"
	      "Options:\n"
	      "  --hooks-dir DIR     the hooks.d directory (created when missing)\n"
	      "  --bundle DIR        an OCI bundle whose config.json gets the hooks\n"
	      "  --stage S           an OCI stage (createRuntime, poststart, ...); may repeat;\n"
	      "                      default createRuntime, poststart, poststop\n"
	      "  --name NAME         file name prefix (default " DEFAULT_NAME ")\n"
	      "  --annotation K=V    only for containers with an annotation whose key matches\n"
	      "                      the extended regular expression K and value V; may repeat\n"
	      "  --command RE        only when process.args[0] matches RE; may repeat\n"
	      "  --has-bind-mounts   only for containers with host bind mounts\n"
	      "  --timeout S         seconds the runtime gives the hook (oci-hook then waits at\n"
	      "                      most S*500 ms, and 2000 ms at most, for its ACK)\n"
	      "  --fail-closed       the hook fails when the event is not acknowledged (or, with\n"
	      "                      --wait, has no verdict in time)\n"
	      "  --wait              the hooks of the stages before the container's process\n"
	      "                      starts (createRuntime, createContainer, startContainer,\n"
	      "                      prestart) wait for hem's verdict: a BLOCKING hook that\n"
	      "                      refuses aborts the container; with --timeout S, oci-hook\n"
	      "                      gets S*900 ms for the ACK and the verdict together\n"
	      "  --endpoint E, -c FILE, --hem-endpoint E   passed to oci-hook\n"
	      "  --uninstall         remove the descriptors (or entries) instead (all stages\n"
	      "                      unless --stage)\n"
	      "Without a condition the descriptor says `\"when\": {\"always\": true}`; a bundle's\n"
	      "hooks take no condition.\n"
	      "Exit status: 0 done, 1 a file could not be written or removed, 2 bad arguments.\n", out);
}

static void install_args_free(struct hb_install_args *a)
{
	free(a->stages);
	free(a->annotations);
	free(a->commands);
}

/* Checks that re compiles as a POSIX extended regular expression (CRI-O and
 * podman compile it with Go's regexp, which accepts every usual ERE). */
static int check_regex(const char *what, const char *re, hb_error *err)
{
	regex_t rx;
	char msg[256];
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc != 0) {
		regerror(rc, &rx, msg, sizeof(msg));
		return hb_error_set(err, -HB_EINVAL, "%s '%s' is not a regular expression: %s", what, re, msg);
	}
	regfree(&rx);
	return 0;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_LEN || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* Adds stage st unless it is already listed. */
static void add_stage(struct hb_install_args *a, const hb_oci_stage *st)
{
	for (size_t i = 0; i < a->nstages; i++)
		if (a->stages[i] == st)
			return;
	a->stages[a->nstages++] = st;
}

/* Reads the command line into a (whose lists the caller frees with
 * install_args_free, also on error): every regular expression is checked,
 * stages are deduplicated, and the default stages filled in. */
static int install_parse(int argc, char **argv, struct hb_install_args *a, hb_error *err)
{
	bool install_only = false, name_given = false;

	a->name = DEFAULT_NAME;
	a->stages = calloc((size_t)argc + HB_OCI_NSTAGES, sizeof(*a->stages));
	a->annotations = calloc((size_t)argc, sizeof(char *));
	a->commands = calloc((size_t)argc, sizeof(char *));
	if (a->stages == NULL || a->annotations == NULL || a->commands == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v;
		if (strcmp(o, "--has-bind-mounts") == 0) {
			a->has_bind_mounts = install_only = true;
			continue;
		}
		if (strcmp(o, "--fail-closed") == 0) {
			a->fail_closed = install_only = true;
			continue;
		}
		if (strcmp(o, "--uninstall") == 0) {
			a->uninstall = true;
			continue;
		}
		if (strcmp(o, "--wait") == 0) {
			a->wait = install_only = true;
			continue;
		}
		if (o[0] != '-')
			return hb_error_set(err, -HB_EINVAL, "unexpected argument '%s'", o);
		if (i + 1 >= argc)
			return hb_error_set(err, -HB_EINVAL, "%s needs a value", o);
		v = argv[++i];
		if (strcmp(o, "--hooks-dir") == 0) {
			a->hooks_dir = v;
		} else if (strcmp(o, "--bundle") == 0) {
			a->bundle = v;
		} else if (strcmp(o, "--hem-endpoint") == 0) {
			a->hem_endpoint = v;
			install_only = true;
		} else if (strcmp(o, "--name") == 0) {
			if (!name_ok(v))
				return hb_error_set(err, -HB_EINVAL, "--name '%s': use 1 to %d letters, digits, "
						    "'.', '_' or '-', not starting with '.'", v, NAME_MAX_LEN);
			a->name = v;
			name_given = true;
		} else if (strcmp(o, "--stage") == 0) {
			const hb_oci_stage *st = hb_oci_stage_find(v);
			if (st == NULL)
				return hb_error_set(err, -HB_EINVAL, "'%s' is not an OCI hook stage", v);
			add_stage(a, st);
		} else if (strcmp(o, "--annotation") == 0) {
			const char *eq = strchr(v, '=');
			hb_autofree char *key = eq ? strndup(v, (size_t)(eq - v)) : NULL;
			if (eq == NULL || eq == v || eq[1] == '\0')
				return hb_error_set(err, -HB_EINVAL, "--annotation takes KEY_RE=VALUE_RE, not '%s'", v);
			if (key == NULL)
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			if (check_regex("--annotation key", key, err) < 0 ||
			    check_regex("--annotation value", eq + 1, err) < 0)
				return err->code;
			a->annotations[a->nannotations++] = v;
			install_only = true;
		} else if (strcmp(o, "--command") == 0) {
			if (check_regex("--command", v, err) < 0)
				return err->code;
			a->commands[a->ncommands++] = v;
			install_only = true;
		} else if (strcmp(o, "--timeout") == 0) {
			char *end;
			a->timeout_s = strtol(v, &end, 10);
			if (*end != '\0' || end == v || a->timeout_s <= 0 || a->timeout_s > 3600)
				return hb_error_set(err, -HB_EINVAL, "--timeout takes seconds (1..3600)");
			install_only = true;
		} else if (strcmp(o, "--endpoint") == 0) {
			a->endpoint = v;
			install_only = true;
		} else if (strcmp(o, "-c") == 0) {
			a->config = v;
			install_only = true;
		} else {
			return hb_error_set(err, -HB_EINVAL, "unknown option %s", o);
		}
	}
	if ((a->hooks_dir == NULL) == (a->bundle == NULL) || (a->hooks_dir && a->hooks_dir[0] == '\0') ||
	    (a->bundle && a->bundle[0] == '\0'))
		return hb_error_set(err, -HB_EINVAL, "install-oci-hook needs --hooks-dir DIR or --bundle DIR");
	if (a->uninstall && install_only)
		return hb_error_set(err, -HB_EINVAL, "--uninstall takes only --hooks-dir or --bundle, --name and --stage");
	if (a->hem_endpoint != NULL && !a->wait)
		return hb_error_set(err, -HB_EINVAL, "--hem-endpoint goes with --wait");
	if (a->bundle != NULL && (a->nannotations || a->ncommands || a->has_bind_mounts || name_given))
		return hb_error_set(err, -HB_EINVAL, "--annotation, --command, --has-bind-mounts and --name are for "
				    "--hooks-dir (a bundle's hooks take no condition)");
	if (a->nstages == 0) {
		if (a->uninstall)
			for (size_t i = 0; i < HB_OCI_NSTAGES; i++)
				add_stage(a, &hb_oci_stages[i]);
		else
			for (size_t i = 0; i < sizeof(default_stages) / sizeof(default_stages[0]); i++)
				add_stage(a, hb_oci_stage_find(default_stages[i]));
	}
	return 0;
}

/* Appends s to the JSON array arr; false when out of memory. */
static bool append(json_t *arr, const char *s)
{
	return json_array_append_new(arr, json_string(s)) == 0;
}

/* Whether the stage runs before the container's process starts, so that
 * --wait can still refuse it. */
static bool stage_before_start(const hb_oci_stage *st)
{
	return strcmp(st->oci, "poststart") != 0 && strcmp(st->oci, "poststop") != 0;
}

json_t *hb_oci_hook_entry(const struct hb_install_args *a, const char *exe, const hb_oci_stage *st)
{
	json_t *hook = json_object(), *args = json_array();
	const char *base = strrchr(exe, '/');
	bool wait = a->wait && stage_before_start(st);
	bool ok = hook && args;
	char ms[32];

	ok = ok && append(args, base ? base + 1 : exe) && append(args, "oci-hook") && append(args, st->oci);
	if (ok && a->endpoint != NULL)
		ok = append(args, "--endpoint") && append(args, a->endpoint);
	if (ok && a->config != NULL)
		ok = append(args, "-c") && append(args, a->config);
	if (ok && wait && a->timeout_s > 0) {
		snprintf(ms, sizeof(ms), "%ld", a->timeout_s * 900);
		ok = append(args, "--timeout") && append(args, ms);
	} else if (ok && a->timeout_s > 0 && a->timeout_s * 500 < HB_DEFAULT_OCI_TIMEOUT_MS) {
		snprintf(ms, sizeof(ms), "%ld", a->timeout_s * 500);
		ok = append(args, "--timeout") && append(args, ms);
	}
	if (ok && wait)
		ok = append(args, "--wait");
	if (ok && wait && a->hem_endpoint != NULL)
		ok = append(args, "--hem-endpoint") && append(args, a->hem_endpoint);
	if (ok && a->fail_closed)
		ok = append(args, "--fail-closed");
	ok = ok && json_object_set_new(hook, "path", json_string(exe)) == 0 &&
	     json_object_set(hook, "args", args) == 0;
	if (ok && a->timeout_s > 0)
		ok = json_object_set_new(hook, "timeout", json_integer(a->timeout_s)) == 0;
	json_decref(args);
	if (!ok) {
		json_decref(hook);
		return NULL;
	}
	return hook;
}

/* Builds the descriptor of stage st for the hm-publisher at exe as JSON text
 * (a new string the caller frees). */
static int descriptor(const struct hb_install_args *a, const char *exe, const hb_oci_stage *st, char **out,
		      hb_error *err)
{
	json_t *root = json_object(), *hook = hb_oci_hook_entry(a, exe, st), *when = json_object();
	json_t *stages = json_array();
	bool ok = root && hook && when && stages;

	if (ok && a->nannotations > 0) {
		json_t *anns = json_object();
		ok = anns != NULL && json_object_set_new(when, "annotations", anns) == 0;
		for (size_t i = 0; ok && i < a->nannotations; i++) {
			const char *eq = strchr(a->annotations[i], '=');
			hb_autofree char *key = strndup(a->annotations[i], (size_t)(eq - a->annotations[i]));
			ok = key != NULL && json_object_set_new(anns, key, json_string(eq + 1)) == 0;
		}
	}
	if (ok && a->ncommands > 0) {
		json_t *cmds = json_array();
		ok = cmds != NULL && json_object_set_new(when, "commands", cmds) == 0;
		for (size_t i = 0; ok && i < a->ncommands; i++)
			ok = append(cmds, a->commands[i]);
	}
	if (ok && a->has_bind_mounts)
		ok = json_object_set_new(when, "hasBindMounts", json_true()) == 0;
	if (ok && json_object_size(when) == 0)
		ok = json_object_set_new(when, "always", json_true()) == 0;
	ok = ok && append(stages, st->oci) && json_object_set_new(root, "version", json_string("1.0.0")) == 0 &&
	     json_object_set(root, "hook", hook) == 0 && json_object_set(root, "when", when) == 0 &&
	     json_object_set(root, "stages", stages) == 0;
	*out = ok ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	json_decref(hook);
	json_decref(when);
	json_decref(stages);
	if (*out == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	return 0;
}

int hb_oci_write_temp(const char *dir, const char *final_name, const char *text, mode_t mode, char **tmp,
		      hb_error *err)
{
	hb_autofree char *path = NULL;
	size_t len = strlen(text), done = 0;
	int fd;

	if (asprintf(&path, "%s/.%s.tmpXXXXXX", dir, final_name) < 0) {
		path = NULL;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return hb_error_set(err, -HB_EIO, "cannot create a file in %s: %s", dir, strerror(errno));
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		done += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	*tmp = hb_steal(&path);
	return 0;
fail:
	hb_error_set(err, -HB_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	return err->code;
}

void hb_oci_sync_dir(const char *dir)
{
	hb_autoclose int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		fsync(fd);
}

static char *descriptor_name(const char *name, const hb_oci_stage *st)
{
	char *s;

	return asprintf(&s, "%s-%s.json", name, st->oci) < 0 ? NULL : s;
}

/* Removes NAME-STAGE.json for every stage in remove[] (n of them) that
 * exists; prints each path removed. */
static int remove_descriptors(const struct hb_install_args *a, const hb_oci_stage *const *remove, size_t n,
			      hb_error *err)
{
	for (size_t i = 0; i < n; i++) {
		hb_autofree char *file = descriptor_name(a->name, remove[i]);
		hb_autofree char *path = NULL;
		if (file == NULL || asprintf(&path, "%s/%s", a->hooks_dir, file) < 0)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		if (unlink(path) == 0)
			printf("removed %s\n", path);
		else if (errno != ENOENT)
			return hb_error_set(err, -HB_EIO, "cannot remove %s: %s", path, strerror(errno));
	}
	hb_oci_sync_dir(a->hooks_dir);
	return 0;
}

int hb_oci_self_path(char *exe, size_t size, hb_error *err)
{
	ssize_t n = readlink("/proc/self/exe", exe, size - 1);
	char *base;

	if (n < 0)
		return hb_error_set(err, -HB_EIO, "cannot find this program's path (/proc/self/exe): %s",
				    strerror(errno));
	exe[n] = '\0';
	/* The core runs in the launcher's place: hooks are to run the launcher,
	 * next to the core in a build tree, else where the install puts it
	 * relative to the core, else at this build's installed path. */
	base = strrchr(exe, '/');
	if (base != NULL && strcmp(base + 1, "hm-publisher-core") == 0) {
		char dir[PATH_MAX], path[PATH_MAX + 64], real[PATH_MAX];
		*base = '\0';
		snprintf(dir, sizeof(dir), "%s", exe);
		snprintf(path, sizeof(path), "%s/hm-publisher", dir);
		if (access(path, X_OK) != 0)
			snprintf(path, sizeof(path), "%s/%s", dir, HB_LAUNCHER_RELPATH);
		if (access(path, X_OK) != 0 || realpath(path, real) == NULL)
			snprintf(real, sizeof(real), "%s", HB_LAUNCHER_PATH);
		if (strlen(real) >= size)
			return hb_error_set(err, -HB_EIO, "%s is too long a path", real);
		strcpy(exe, real);
	}
	return 0;
}

/* Writes every stage's descriptor to a temporary file first, then renames
 * them all into place, then removes the descriptors of stages no longer
 * asked for: a failure before the renames leaves DIR as it was. */
static int install(const struct hb_install_args *a, hb_error *err)
{
	char exe[PATH_MAX];
	char **tmps = calloc(a->nstages, sizeof(char *));
	const hb_oci_stage *others[HB_OCI_NSTAGES];
	size_t nothers = 0;
	int rc = 0;

	if (tmps == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (hb_oci_self_path(exe, sizeof(exe), err) < 0) {
		free(tmps);
		return err->code;
	}
	rc = hb_mkdir_p(a->hooks_dir, 0755, err);
	for (size_t i = 0; rc == 0 && i < a->nstages; i++) {
		hb_autofree char *text = NULL;
		hb_autofree char *file = descriptor_name(a->name, a->stages[i]);
		if (file == NULL)
			rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
		if (rc == 0)
			rc = descriptor(a, exe, a->stages[i], &text, err);
		if (rc == 0)
			rc = hb_oci_write_temp(a->hooks_dir, file, text, 0644, &tmps[i], err);
	}
	for (size_t i = 0; rc == 0 && i < a->nstages; i++) {
		hb_autofree char *file = descriptor_name(a->name, a->stages[i]);
		hb_autofree char *path = NULL;
		if (file == NULL || asprintf(&path, "%s/%s", a->hooks_dir, file) < 0) {
			path = NULL;
			rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
		} else if (rename(tmps[i], path) < 0) {
			rc = hb_error_set(err, -HB_EIO, "cannot rename %s to %s: %s", tmps[i], path, strerror(errno));
		} else {
			printf("wrote %s\n", path);
			free(tmps[i]);
			tmps[i] = NULL;
		}
	}
	for (size_t i = 0; i < a->nstages; i++) {
		if (tmps[i] != NULL)
			unlink(tmps[i]);
		free(tmps[i]);
	}
	free(tmps);
	if (rc < 0)
		return rc;
	hb_oci_sync_dir(a->hooks_dir);
	for (size_t i = 0; i < HB_OCI_NSTAGES; i++) {
		bool asked = false;
		for (size_t j = 0; j < a->nstages; j++)
			asked = asked || a->stages[j] == &hb_oci_stages[i];
		if (!asked)
			others[nothers++] = &hb_oci_stages[i];
	}
	return remove_descriptors(a, others, nothers, err);
}

int hb_oci_install_main(int argc, char **argv)
{
	struct hb_install_args a = { 0 };
	hb_error err = { 0 };
	int rc;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			install_usage(stdout);
			return HB_EXIT_OK;
		}
	rc = install_parse(argc, argv, &a, &err);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher install-oci-hook: %s\nTry 'hm-publisher install-oci-hook --help'.\n",
			err.msg);
		install_args_free(&a);
		return HB_EXIT_USAGE;
	}
	if (a.bundle != NULL)
		rc = hb_oci_bundle_install(&a, &err);
	else
		rc = a.uninstall ? remove_descriptors(&a, a.stages, a.nstages, &err) : install(&a, &err);
	install_args_free(&a);
	if (rc < 0) {
		fprintf(stderr, "hm-publisher install-oci-hook: %s\n", err.msg);
		return 1;
	}
	return HB_EXIT_OK;
}
