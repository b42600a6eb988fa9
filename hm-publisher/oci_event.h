/* oci_event.h -- the CONTAINER event of an OCI hook, for the one-shot hook and the daemon's local socket alike. */
#ifndef HB_OCI_EVENT_H
#define HB_OCI_EVENT_H

#include "error.h"
#include "message.h"
#include "oci_stage.h"
#include "oci_state.h"

/* Builds the CONTAINER event of state s at stage into *msg (freed with
 * hb_message_free()): its <CONTAINER> document (with config.json's fields
 * when cfg is non-NULL), RESOURCE_ID the container id, STATE the stage's
 * state, REMOTE_HOST host (NULL: this node's hostname). */
int hb_oci_event_build(const hb_oci_state *s, const hb_oci_config *cfg, const hb_oci_stage *stage, const char *host,
		       hb_message **msg, hb_error *err);

#endif
