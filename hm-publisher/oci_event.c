/* oci_event.c -- a container's state at a stage becomes the HOOK_MESSAGE of a CONTAINER event. */
#include "oci_event.h"

#include <limits.h>
#include <unistd.h>

#include "oci_doc.h"
#include "xml.h"

int hb_oci_event_build(const hb_oci_state *s, const hb_oci_config *cfg, const hb_oci_stage *stage, const char *host,
		       hb_message **msg, hb_error *err)
{
	hb_autodoc xmlDocPtr doc = NULL;
	char name[HOST_NAME_MAX + 1] = "";
	hb_state_event ev = { 0 };
	int rc;

	rc = hb_oci_doc_build(s, cfg, stage, &doc, err);
	if (rc < 0)
		return rc;
	if (host == NULL) {
		if (gethostname(name, sizeof(name)) < 0)
			name[0] = '\0';
		name[sizeof(name) - 1] = '\0';
		host = name;
	}
	ev.object = "CONTAINER";
	ev.id = s->id;
	ev.state = stage->state;
	ev.remote_host = host;
	return hb_message_new_state(&ev, xmlDocGetRootElement(doc), msg, err);
}
