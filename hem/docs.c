/* docs.c -- building hem's XML answers from stored hooks and execution records. */
#include "docs.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "xml.h"

xmlDocPtr hb_doc_new(const char *root, xmlNodePtr *out_root)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");

	if (doc == NULL)
		return NULL;
	*out_root = xmlNewDocNode(doc, NULL, BAD_CAST root, NULL);
	if (*out_root == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, *out_root);
	return doc;
}

static xmlNodePtr add_b64(xmlNodePtr parent, const char *name, const char *data, size_t len)
{
	char *b = hb_base64_encode(data ? data : "", data ? len : 0, NULL);
	xmlNodePtr n;

	if (b == NULL)
		return NULL;
	n = hb_xml_add(parent, name, b);
	free(b);
	return n;
}

xmlNodePtr hb_doc_add_record(xmlNodePtr parent, const hb_exec_row *e)
{
	xmlNodePtr r = hb_xml_add(parent, "HOOK_EXECUTION_RECORD", NULL), res;
	int64_t start = e->start_ms >= 0 ? e->start_ms : e->queued_ms;
	bool ok;

	if (r == NULL)
		return NULL;
	ok = hb_xml_addf(r, "HOOK_ID", "%" PRId64, e->hook_id) && hb_xml_addf(r, "EXECUTION_ID", "%" PRId64, e->exec_id) &&
	     hb_xml_addf(r, "TIMESTAMP", "%" PRId64, start / 1000) && hb_xml_add(r, "ARGUMENTS", e->arguments) &&
	     (res = hb_xml_add(r, "EXECUTION_RESULT", NULL)) != NULL && hb_xml_add(res, "COMMAND", e->command) &&
	     add_b64(res, "STDOUT", e->out, e->out_len) && add_b64(res, "STDERR", e->err, e->err_len) &&
	     hb_xml_addf(res, "CODE", "%d", e->code);
	if (ok && e->remote_host != NULL)
		ok = hb_xml_add(r, "REMOTE_HOST", e->remote_host) != NULL;
	if (ok && e->retry_of >= 0)
		ok = hb_xml_add(r, "RETRY", "yes") != NULL;
	if (ok)
		ok = hb_xml_add(r, "STATE", e->state) != NULL;
	if (ok && e->end_ms >= 0)
		ok = hb_xml_addf(r, "END_TIMESTAMP", "%" PRId64, e->end_ms / 1000) &&
		     hb_xml_addf(r, "DURATION_MS", "%" PRId64, e->end_ms - start);
	if (ok)
		ok = hb_xml_add(r, "TIMED_OUT", e->timed_out ? "yes" : "no") &&
		     hb_xml_addf(r, "SIGNAL", "%d", e->signal);
	if (ok && e->seq >= 0)
		ok = hb_xml_addf(r, "SEQ", "%" PRId64, e->seq) != NULL;
	if (ok && e->event_key != NULL)
		ok = hb_xml_add(r, "EVENT_KEY", e->event_key) != NULL;
	if (ok && e->retry_of >= 0)
		ok = hb_xml_addf(r, "RETRY_OF", "%" PRId64, e->retry_of) != NULL;
	if (ok && e->attempt > 0)
		ok = hb_xml_addf(r, "ATTEMPT", "%d", e->attempt) != NULL;
	if (ok && e->run_after_ms >= 0 && strcmp(e->state, "PENDING") == 0)
		ok = hb_xml_addf(r, "RUN_AFTER", "%" PRId64, (e->run_after_ms + 999) / 1000) != NULL;
	if (ok)
		ok = hb_xml_add(r, "STDOUT_TRUNCATED", e->out_truncated ? "yes" : "no") &&
		     hb_xml_add(r, "STDERR_TRUNCATED", e->err_truncated ? "yes" : "no");
	if (ok && e->blocking)
		ok = hb_xml_add(r, "BLOCKING", "yes") != NULL;
	if (ok && e->verdict != NULL)
		ok = hb_xml_add(r, "VERDICT", e->verdict) != NULL;
	return ok ? r : NULL;
}

/* Writes the template's attributes as elements (vectors nested). */
static bool add_template(xmlNodePtr parent, const hb_template *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const hb_tattr *a = &t->attrs[i];
		xmlNodePtr n = hb_xml_add(parent, a->name, a->value);
		if (n == NULL)
			return false;
		for (size_t j = 0; a->value == NULL && j < a->nvec; j++)
			if (hb_xml_add(n, a->vec[j].name, a->vec[j].value) == NULL)
				return false;
	}
	return true;
}

xmlNodePtr hb_doc_add_hook(xmlNodePtr parent, const hb_hook_row *row, const hb_hookdef *def,
			   xmlNodePtr *log)
{
	xmlNodePtr h = hb_xml_add(parent, "HOOK", NULL), t;
	bool ok;

	if (h == NULL)
		return NULL;
	ok = hb_xml_addf(h, "ID", "%" PRId64, row->id) && hb_xml_add(h, "NAME", row->name) &&
	     hb_xml_add(h, "TYPE", row->type);
	if (ok && row->lock_level > 0) {
		xmlNodePtr l = hb_xml_add(h, "LOCK", NULL);
		ok = l && hb_xml_addf(l, "LOCKED", "%d", row->lock_level) && hb_xml_add(l, "OWNER", "0") &&
		     hb_xml_addf(l, "TIME", "%" PRId64, row->lock_time) && hb_xml_add(l, "REQ_ID", "-1");
	}
	if (ok)
		ok = (t = hb_xml_add(h, "TEMPLATE", NULL)) != NULL && add_template(t, def->tmpl);
	if (ok && log != NULL)
		ok = (*log = hb_xml_add(h, "HOOKLOG", NULL)) != NULL;
	return ok ? h : NULL;
}
