/* oci_install.h -- `hm-publisher install-oci-hook`: hooks.d descriptors that make CRI-O and podman call oci-hook. */
#ifndef HB_OCI_INSTALL_H
#define HB_OCI_INSTALL_H

/* `hm-publisher install-oci-hook ...` (argv[0] is "install-oci-hook");
 * returns the exit status. */
int hb_oci_install_main(int argc, char **argv);

#endif
