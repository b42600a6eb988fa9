/* oci_hook.h -- `hm-publisher oci-hook STAGE`: an OCI runtime hook that publishes a CONTAINER event. */
#ifndef HB_OCI_HOOK_H
#define HB_OCI_HOOK_H

#include "oci_input.h"

/* `hm-publisher oci-hook ...` (argv[0] is "oci-hook"); returns the exit status. */
int hb_oci_hook_main(int argc, char **argv);

#endif
