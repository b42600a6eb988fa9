/* control.c -- hem's control API (hookctl's only way in): one request, one answer, on a ROUTER socket. */
#include "hem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cleanup.h"
#include "ctlparse.h"
#include "docs.h"
#include "log.h"
#include "xml.h"
#include "zmqutil.h"

#define CONTROL_FRAMES_MAX 10
#define CONTROL_BATCH 64

/* One parsed request, where its answer goes, and its answer. */
struct request {
	hem_ctl_request q;
	const hb_frames *fr;  /* frame 0 is the client's identity */
	bool delimiter;     /* a REQ client's empty frame follows its identity */
	bool deferred;      /* answered (or to be answered) by the verdict module */
	char *answer;       /* OK payload, owned */
	hb_error err;
};

static int answer_doc(struct request *r, xmlDocPtr doc)
{
	r->answer = hb_xml_dump(xmlDocGetRootElement(doc), NULL);
	xmlFreeDoc(doc);
	return r->answer ? 0 : hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
}

static int answer_id(struct request *r, int64_t id)
{
	return asprintf(&r->answer, "%" PRId64, id) < 0 ? (r->answer = NULL, hb_error_set(&r->err, -HB_ENOMEM, "out of memory")) : 0;
}

/* Parses the request's template text. */
static int request_template(struct request *r, hb_template **t)
{
	return hb_template_parse(r->q.text, r->q.text_len, t, &r->err);
}

static int check_unlocked(struct hem *h, int64_t id, const char *verb, struct request *r)
{
	hb_hook_row row = { 0 };
	int rc = hb_store_hook_get(h->store, id, &row, &r->err);

	if (rc == 0 && row.lock_level > 0)
		rc = hb_error_set(&r->err, -HB_EPERM, "hook %" PRId64 " is locked: %s refused (unlock it first)", id, verb);
	hb_hook_row_clear(&row);
	return rc;
}

static int do_allocate(struct hem *h, struct request *r)
{
	hb_template *t = NULL;
	hb_hookdef *def = NULL;
	hb_autofree char *text = NULL;
	int64_t id;
	int rc;

	rc = request_template(r, &t);
	if (rc == 0)
		rc = hb_hookdef_new(t, h->res, &def, &r->err);
	hb_template_free(t);
	if (rc < 0)
		return rc;
	text = hb_hookdef_template_str(def);
	if (text == NULL)
		rc = hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
	if (rc == 0)
		rc = hb_store_hook_insert(h->store, def->name, hb_hook_type_str(def->type), def->prefix, text, &id, &r->err);
	if (rc < 0) {
		hb_hookdef_free(def);
		return rc;
	}
	rc = hem_hook_set(h, id, def, &r->err);
	if (rc == 0)
		rc = answer_id(r, id);
	hb_log(HB_LOG_INFO, "hook %" PRId64 " (%s) created", id, def->name);
	return rc;
}

/* The hook's row and in-memory definition. */
static int hook_get(struct hem *h, struct request *r, int64_t id, hb_hook_row *row, struct hem_hook **hook)
{
	int rc = hb_store_hook_get(h->store, id, row, &r->err);

	if (rc == 0 && (*hook = hem_hook_find(h, id)) == NULL) {
		hb_hook_row_clear(row);
		rc = hb_error_set(&r->err, -HB_ENOENT, "hook %" PRId64 " does not exist", id);
	}
	return rc;
}

static int log_append(void *ctx, const hb_exec_row *e, hb_error *err)
{
	return hb_doc_add_record(ctx, e) ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

static int do_info(struct hem *h, struct request *r)
{
	hb_hook_row row = { 0 };
	struct hem_hook *hook;
	xmlNodePtr root, log = NULL;
	xmlDocPtr doc;
	int64_t id = r->q.id, exec_id = r->q.exec_id;
	int rc;

	if (exec_id >= 0) {
		hb_exec_row e = { 0 };
		rc = hb_store_exec_get(h->store, id, exec_id, &e, &r->err);
		if (rc < 0)
			return rc;
		doc = xmlNewDoc(BAD_CAST "1.0");
		root = doc ? xmlNewDocNode(doc, NULL, BAD_CAST "TMP", NULL) : NULL;
		if (root != NULL) {
			xmlNodePtr rec;
			xmlDocSetRootElement(doc, root);
			rec = hb_doc_add_record(root, &e);
			if (rec != NULL) {
				xmlUnlinkNode(rec);
				xmlDocSetRootElement(doc, rec);
				xmlFreeNode(root);
			}
		}
		hb_exec_row_clear(&e);
		if (doc == NULL || xmlStrcmp(xmlDocGetRootElement(doc)->name, BAD_CAST "HOOK_EXECUTION_RECORD") != 0) {
			xmlFreeDoc(doc);
			return hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
		}
		return answer_doc(r, doc);
	}
	rc = hook_get(h, r, id, &row, &hook);
	if (rc < 0)
		return rc;
	doc = hb_doc_new("TMP", &root);
	rc = -HB_ENOMEM;
	if (doc != NULL) {
		xmlNodePtr node = hb_doc_add_hook(root, &row, hook->def, &log);
		if (node != NULL) {
			hb_log_filter f = { .hook_id = id, .since = -1, .until = -1, .limit = -1 };
			xmlUnlinkNode(node);
			xmlDocSetRootElement(doc, node);
			xmlFreeNode(root);
			rc = hb_store_exec_query(h->store, &f, log_append, log, &r->err);
		}
	}
	hb_hook_row_clear(&row);
	if (rc < 0) {
		xmlFreeDoc(doc);
		return rc == -HB_ENOMEM ? hb_error_set(&r->err, rc, "out of memory") : rc;
	}
	return answer_doc(r, doc);
}

struct pool_ctx {
	struct hem *h;
	xmlNodePtr root;
};

static int pool_append(void *ctx, const hb_hook_row *row, hb_error *err)
{
	struct pool_ctx *p = ctx;
	struct hem_hook *hook = hem_hook_find(p->h, row->id);

	if (hook == NULL)
		return 0;
	return hb_doc_add_hook(p->root, row, hook->def, NULL) ? 0 : hb_error_set(err, -HB_ENOMEM, "out of memory");
}

static int do_pool(struct hem *h, struct request *r)
{
	struct pool_ctx p = { h, NULL };
	xmlDocPtr doc = hb_doc_new("HOOK_POOL", &p.root);
	int rc;

	if (doc == NULL)
		return hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
	rc = hb_store_hooks_each(h->store, pool_append, &p, &r->err);
	if (rc < 0) {
		xmlFreeDoc(doc);
		return rc;
	}
	return answer_doc(r, doc);
}

/* Stores def (taken) as the new definition of hook id. */
static int save_def(struct hem *h, struct request *r, int64_t id, hb_hookdef *def)
{
	hb_autofree char *text = hb_hookdef_template_str(def);
	int rc;

	if (text == NULL) {
		hb_hookdef_free(def);
		return hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
	}
	rc = hb_store_hook_update(h->store, id, def->name, def->prefix, text, &r->err);
	if (rc < 0) {
		hb_hookdef_free(def);
		return rc;
	}
	rc = hem_hook_set(h, id, def, &r->err);
	return rc == 0 ? answer_id(r, id) : rc;
}

static int do_update(struct hem *h, struct request *r)
{
	hb_template *t = NULL;
	hb_hookdef *def = NULL;
	struct hem_hook *hook;
	bool append = r->q.append;
	int64_t id = r->q.id;
	int rc;

	rc = check_unlocked(h, id, "update", r);
	if (rc == 0 && (hook = hem_hook_find(h, id)) == NULL)
		rc = hb_error_set(&r->err, -HB_ENOENT, "hook %" PRId64 " does not exist", id);
	if (rc == 0)
		rc = request_template(r, &t);
	if (rc == 0)
		rc = hb_hookdef_update(hook->def, t, append, h->res, &def, &r->err);
	hb_template_free(t);
	if (rc < 0)
		return rc;
	hb_log(HB_LOG_INFO, "hook %" PRId64 " updated", id);
	return save_def(h, r, id, def);
}

static int do_rename(struct hem *h, struct request *r)
{
	hb_hookdef *def = NULL;
	struct hem_hook *hook;
	const char *name = r->q.name;
	int64_t id = r->q.id;
	int rc;

	rc = check_unlocked(h, id, "rename", r);
	if (rc == 0 && (hook = hem_hook_find(h, id)) == NULL)
		rc = hb_error_set(&r->err, -HB_ENOENT, "hook %" PRId64 " does not exist", id);
	if (rc == 0)
		rc = hb_hookdef_rename(hook->def, name, &def, &r->err);
	if (rc < 0)
		return rc;
	hb_log(HB_LOG_INFO, "hook %" PRId64 " renamed to %s", id, name);
	return save_def(h, r, id, def);
}

static int do_delete(struct hem *h, struct request *r)
{
	int64_t id = r->q.id;
	int rc;

	rc = check_unlocked(h, id, "delete", r);
	if (rc == 0)
		rc = hb_store_hook_delete(h->store, id, &r->err);
	if (rc == 0)
		rc = hem_hook_set(h, id, NULL, &r->err);
	if (rc == 0) {
		hb_log(HB_LOG_INFO, "hook %" PRId64 " deleted", id);
		rc = answer_id(r, id);
	}
	return rc;
}

static int do_lock(struct hem *h, struct request *r)
{
	int rc = hb_store_hook_lock(h->store, r->q.id, r->q.verb == HEM_CTL_LOCK ? (int)r->q.level : 0, &r->err);

	return rc == 0 ? answer_id(r, r->q.id) : rc;
}

static int do_retry(struct hem *h, struct request *r)
{
	int64_t new_exec;
	int rc = hem_retry(h, r->q.id, r->q.exec_id, &new_exec, &r->err);

	return rc == 0 ? answer_id(r, new_exec) : rc;
}

/* LOG: the records that pass the request's filter. */
static int do_log(struct hem *h, struct request *r)
{
	xmlNodePtr root;
	xmlDocPtr doc;
	int rc;

	doc = hb_doc_new("HOOKLOG", &root);
	if (doc == NULL)
		return hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
	rc = hb_store_exec_query(h->store, &r->q.filter, log_append, root, &r->err);
	if (rc < 0) {
		xmlFreeDoc(doc);
		return rc;
	}
	return answer_doc(r, doc);
}

/* VERDICT <seq> <timeout-ms>: answered by verdict.c, at once or when the
 * event's blocking executions have ended (or the timeout has passed). */
static int do_verdict(struct hem *h, struct request *r)
{
	int rc = hem_verdict_request(h, hb_frame_data(r->fr, 0), hb_frame_size(r->fr, 0), r->delimiter, r->q.seq,
				     r->q.timeout_ms, &r->err);

	if (rc == 0)
		r->deferred = true;
	return rc;
}

static int dispatch_verb(struct hem *h, struct request *r)
{
	switch (r->q.verb) {
	case HEM_CTL_ALLOCATE: return do_allocate(h, r);
	case HEM_CTL_INFO: return do_info(h, r);
	case HEM_CTL_POOL: return do_pool(h, r);
	case HEM_CTL_UPDATE: return do_update(h, r);
	case HEM_CTL_RENAME: return do_rename(h, r);
	case HEM_CTL_DELETE: return do_delete(h, r);
	case HEM_CTL_LOCK:
	case HEM_CTL_UNLOCK: return do_lock(h, r);
	case HEM_CTL_RETRY: return do_retry(h, r);
	case HEM_CTL_LOG: return do_log(h, r);
	case HEM_CTL_VERDICT: return do_verdict(h, r);
	}
	return hb_error_set(&r->err, -HB_EINVAL, "unknown request");
}

void hem_control_reply(struct hem *h, const void *id, size_t idlen, bool delimiter, bool ok, const char *payload)
{
	hb_error err = { 0 };

	if (hb_zmq_send(h->ctl, id, idlen, true, &err) == 0 &&
	    (!delimiter || hb_zmq_send(h->ctl, "", 0, true, &err) == 0)) {
		hb_zmq_send(h->ctl, ok ? "OK" : "ERROR", ok ? 2 : 5, true, &err);
		hb_zmq_send(h->ctl, payload, strlen(payload), false, &err);
	}
}

/* Reads and answers one request; returns 0 when the socket had none. */
static int control_one(struct hem *h)
{
	hb_frames fr = { 0 };
	struct request r = { 0 };
	hb_error err = { 0 };
	const char *data[CONTROL_FRAMES_MAX];
	size_t lens[CONTROL_FRAMES_MAX], body;
	bool delimiter;
	int rc;

	rc = hb_frames_recv(h->ctl, ZMQ_DONTWAIT, CONTROL_FRAMES_MAX, &fr, &err);
	if (rc == 0 || fr.n == 0) {
		hb_frames_free(&fr);
		return rc;
	}
	delimiter = fr.n > 1 && hb_frame_size(&fr, 1) == 0;
	r.fr = &fr;
	r.delimiter = delimiter;
	body = delimiter ? 2 : 1;
	for (size_t i = body; i < fr.n; i++) {
		data[i - body] = hb_frame_data(&fr, i);
		lens[i - body] = hb_frame_size(&fr, i);
	}
	if (rc < 0)
		hb_error_set(&r.err, -HB_EINVAL, "%s", err.msg);
	else if (hem_ctl_parse(data, lens, fr.n > body ? fr.n - body : 0, &r.q, &r.err) == 0)
		dispatch_verb(h, &r);
	if (r.answer != NULL) {
		hem_control_reply(h, hb_frame_data(&fr, 0), hb_frame_size(&fr, 0), delimiter, true, r.answer);
	} else if (!r.deferred) {
		if (r.err.msg[0] == '\0')
			hb_error_set(&r.err, -HB_EIO, "request failed");
		hb_log(HB_LOG_INFO, "control request refused: %s", r.err.msg);
		hem_control_reply(h, hb_frame_data(&fr, 0), hb_frame_size(&fr, 0), delimiter, false, r.err.msg);
	}
	free(r.answer);
	hb_frames_free(&fr);
	return 1;
}

void hem_control_handle(struct hem *h)
{
	hb_error err = { 0 };

	for (int i = 0; i < CONTROL_BATCH && control_one(h) > 0; i++)
		;
	if (hem_subscriptions_sync(h, &err) < 0)
		hb_log(HB_LOG_ERROR, "subscriptions: %s", err.msg);
}
