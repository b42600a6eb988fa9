/* oci_install.h -- `hm-publisher install-oci-hook`: hooks.d descriptors that make CRI-O and podman call oci-hook. */
#ifndef HB_OCI_INSTALL_H
#define HB_OCI_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"
#include "oci_stage.h"

/* What the command line of install-oci-hook says (lists owned). */
struct hb_install_args {
	const char *hooks_dir, *bundle, *name, *endpoint, *config, *hem_endpoint;
	const hb_oci_stage **stages;
	size_t nstages;
	const char **annotations, **commands;
	size_t nannotations, ncommands;
	long timeout_s;
	bool has_bind_mounts, fail_closed, uninstall, wait;
};

/* The hook object that runs `oci-hook` at stage st for the hm-publisher at
 * exe: {"path", "args", "timeout"} as hooks.d descriptors and config.json
 * both have it, with a's options (--wait only at the stages before the
 * container's process starts).  A new reference, NULL when out of memory. */
json_t *hb_oci_hook_entry(const struct hb_install_args *a, const char *exe, const hb_oci_stage *st);

/* This program's absolute path (/proc/self/exe) into exe (size bytes);
 * hm-publisher-core gives the launcher's, which hooks are to run. */
int hb_oci_self_path(char *exe, size_t size, hb_error *err);

/* Writes text and a newline into a new temporary file of dir with mode,
 * flushed to disk, whose name (".FINAL_NAME.tmpXXXXXX") no runtime reads
 * half-written; *tmp is its path (the caller frees it, and renames or
 * unlinks the file). */
int hb_oci_write_temp(const char *dir, const char *final_name, const char *text, mode_t mode, char **tmp,
		      hb_error *err);

/* Flushes dir's entries (the renames and unlinks just made) to disk. */
void hb_oci_sync_dir(const char *dir);

/* `hm-publisher install-oci-hook ...` (argv[0] is "install-oci-hook");
 * returns the exit status. */
int hb_oci_install_main(int argc, char **argv);

#endif
