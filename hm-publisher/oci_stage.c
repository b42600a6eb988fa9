/* oci_stage.c -- the table of OCI hook stages and the lookup by either of their names. */
#include "oci_stage.h"

#include <strings.h>

const hb_oci_stage hb_oci_stages[HB_OCI_NSTAGES] = {
	{ "createRuntime", "CREATE_RUNTIME" },
	{ "createContainer", "CREATE_CONTAINER" },
	{ "startContainer", "START_CONTAINER" },
	{ "prestart", "PRESTART" },
	{ "poststart", "POSTSTART" },
	{ "poststop", "POSTSTOP" },
};

const hb_oci_stage *hb_oci_stage_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < HB_OCI_NSTAGES; i++)
		if (strcasecmp(name, hb_oci_stages[i].oci) == 0 || strcasecmp(name, hb_oci_stages[i].state) == 0)
			return &hb_oci_stages[i];
	return NULL;
}
