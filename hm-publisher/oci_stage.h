/* oci_stage.h -- the OCI hook stages and the CONTAINER states they are published as. */
#ifndef HB_OCI_STAGE_H
#define HB_OCI_STAGE_H

#include <stddef.h>

/* One OCI hook stage: its spelling in the runtime spec (config.json's
 * `hooks`, hooks.d `stages`) and the CONTAINER state of resources.conf. */
typedef struct hb_oci_stage {
	const char *oci;   /* createRuntime */
	const char *state; /* CREATE_RUNTIME */
} hb_oci_stage;

#define HB_OCI_NSTAGES 6

/* Every stage, in the order a container goes through them. */
extern const hb_oci_stage hb_oci_stages[HB_OCI_NSTAGES];

/* Returns the stage named name in either spelling, any case
 * (createRuntime, CREATE_RUNTIME, createruntime, create_runtime), or NULL. */
const hb_oci_stage *hb_oci_stage_find(const char *name);

#endif
