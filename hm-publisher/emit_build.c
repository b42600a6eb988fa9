/* emit_build.c -- turns emit's arguments (and its --object text) into an API or state HOOK_MESSAGE. */
#include "emit_build.h"

#include <string.h>

#include "cleanup.h"
#include "fsutil.h"
#include "xml.h"

static int emit_build_state(const hb_emit_args *a, hb_emit_object *obj, hb_message **msg, hb_error *err)
{
	hb_state_event ev = { 0 };
	hb_autodoc xmlDocPtr objdoc = NULL;
	int rc = 0;

	ev.object = a->pos[1];
	ev.id = a->pos[2];
	ev.state = a->pos[3];
	ev.lcm_state = a->npos == 5 ? a->pos[4] : NULL;
	ev.remote_host = a->remote_host;
	ev.service_id = a->service_id;
	if (a->object_path != NULL) {
		if (obj->text == NULL && obj->no_files)
			rc = hb_error_set(err, -HB_EINVAL, "its text was not sent");
		else if (obj->text == NULL && (rc = hb_file_read(a->object_path, HB_EMIT_OBJECT_MAX, &obj->owned,
								  &obj->len, err)) == 0)
			obj->text = obj->owned;
		if (rc == 0)
			rc = hb_xml_parse(obj->text, obj->len, &objdoc, err);
		if (rc < 0)
			return hb_error_prefix(err, "--object");
	}
	return hb_message_new_state(&ev, objdoc ? xmlDocGetRootElement(objdoc) : NULL, msg, err);
}

int hb_emit_build(const hb_emit_args *a, hb_emit_object *obj, hb_message **msg, hb_error *err)
{
	int rc = hb_emit_check(a, err);

	if (rc < 0)
		return rc;
	if (strcmp(a->pos[0], "api") == 0)
		return hb_message_new_api(a->pos[1], a->result[0] - '0', a->params, a->nparams, a->outs, a->nouts,
					  a->extra, msg, err);
	return emit_build_state(a, obj, msg, err);
}
