/* oci_bundle.h -- `install-oci-hook --bundle`: oci-hook's entries in the hooks of an OCI bundle's config.json. */
#ifndef HB_OCI_BUNDLE_H
#define HB_OCI_BUNDLE_H

#include "error.h"
#include "oci_install.h"

/*
 * Adds (or with a->uninstall removes) this program's oci-hook entries in
 * the `hooks` of a->bundle's config.json, as umoci and oci-add-hooks do.
 * An entry is this program's when its path is this program or a file named
 * hm-publisher and its args[1] is "oci-hook".  Installing leaves exactly one
 * such entry at each asked stage (in the place of the one it replaces, else
 * last) and none at the other stages; uninstalling removes them from the
 * asked stages.  Everything else in the document is kept (a stage or
 * `hooks` left empty by a removal goes).  The file is replaced through a
 * temporary file in the bundle and a rename, keeping its mode and (as root)
 * its owner, so a runtime reads either the old or the new document.  Prints
 * what it did on stdout.
 */
int hb_oci_bundle_install(const struct hb_install_args *a, hb_error *err);

#endif
