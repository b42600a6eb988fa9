/* control.c -- hem's control API (hookctl's only way in): one request, one answer, on a ROUTER socket. */
#include "hem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cleanup.h"
#include "docs.h"
#include "log.h"
#include "xml.h"
#include "zmqutil.h"

#define CONTROL_FRAMES_MAX 10
#define CONTROL_BATCH 64

/* One request's arguments (after the verb) and its answer. */
struct request {
	const hb_frames *fr;
	size_t body;        /* index of the verb */
	size_t nargs;
	bool delimiter;     /* a REQ client's empty frame follows its identity */
	bool deferred;      /* answered (or to be answered) by the verdict module */
	char *answer;       /* OK payload, owned */
	hb_error err;
};

static const char *arg(struct request *r, size_t i, char *buf, size_t size)
{
	size_t n = hb_frame_size(r->fr, r->body + 1 + i);

	if (n >= size)
		n = size - 1;
	memcpy(buf, hb_frame_data(r->fr, r->body + 1 + i), n);
	buf[n] = '\0';
	return buf;
}

/* Parses argument i as a non-negative id. */
static int arg_id(struct request *r, size_t i, const char *what, int64_t *out)
{
	char buf[32], *end;
	const char *s;
	long long v;

	if (i >= r->nargs)
		return hb_error_set(&r->err, -HB_EINVAL, "missing %s", what);
	s = arg(r, i, buf, sizeof(buf));
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		return hb_error_set(&r->err, -HB_EINVAL, "%s must be a non-negative integer, not '%s'", what, s);
	*out = v;
	return 0;
}

static int arg_int(struct request *r, size_t i, int64_t *out)
{
	char buf[32], *end;
	const char *s = arg(r, i, buf, sizeof(buf));
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return hb_error_set(&r->err, -HB_EINVAL, "'%s' is not a number", s);
	*out = v;
	return 0;
}

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

/* Parses the template text of argument i. */
static int arg_template(struct request *r, size_t i, hb_template **t)
{
	if (i >= r->nargs)
		return hb_error_set(&r->err, -HB_EINVAL, "missing template");
	return hb_template_parse(hb_frame_data(r->fr, r->body + 1 + i), hb_frame_size(r->fr, r->body + 1 + i), t,
				 &r->err);
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

	rc = arg_template(r, 0, &t);
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
	int64_t id, exec_id;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0)
		return r->err.code;
	if (r->nargs > 1) {
		hb_exec_row e = { 0 };
		if (arg_id(r, 1, "execution id", &exec_id) < 0)
			return r->err.code;
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
	bool append = false;
	int64_t id;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0)
		return r->err.code;
	if (r->nargs > 2) {
		char buf[16];
		append = strcmp(arg(r, 2, buf, sizeof(buf)), "1") == 0;
	}
	rc = check_unlocked(h, id, "update", r);
	if (rc == 0 && (hook = hem_hook_find(h, id)) == NULL)
		rc = hb_error_set(&r->err, -HB_ENOENT, "hook %" PRId64 " does not exist", id);
	if (rc == 0)
		rc = arg_template(r, 1, &t);
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
	char name[512];
	int64_t id;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0)
		return r->err.code;
	if (r->nargs < 2)
		return hb_error_set(&r->err, -HB_EINVAL, "missing the new name");
	arg(r, 1, name, sizeof(name));
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
	int64_t id;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0)
		return r->err.code;
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

static int do_lock(struct hem *h, struct request *r, bool lock)
{
	int64_t id, level = 0;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0)
		return r->err.code;
	if (lock) {
		level = 1;
		if (r->nargs > 1 && arg_int(r, 1, &level) < 0)
			return r->err.code;
		if (level < 1 || level > 4)
			return hb_error_set(&r->err, -HB_EINVAL, "lock level must be 1 (use), 2 (manage), 3 (admin) or 4 (all)");
	}
	rc = hb_store_hook_lock(h->store, id, (int)level, &r->err);
	return rc == 0 ? answer_id(r, id) : rc;
}

static int do_retry(struct hem *h, struct request *r)
{
	int64_t id, exec_id, new_exec;
	int rc;

	if (arg_id(r, 0, "hook id", &id) < 0 || arg_id(r, 1, "execution id", &exec_id) < 0)
		return r->err.code;
	rc = hem_retry(h, id, exec_id, &new_exec, &r->err);
	return rc == 0 ? answer_id(r, new_exec) : rc;
}

/* LOG <since> <until> <hook-id> <all|success|error>; -1 leaves a filter out. */
static int do_log(struct hem *h, struct request *r)
{
	hb_log_filter f = { .hook_id = -1, .since = -1, .until = -1, .limit = -1 };
	xmlNodePtr root;
	xmlDocPtr doc;
	char buf[16];
	int rc;

	if (r->nargs != 4)
		return hb_error_set(&r->err, -HB_EINVAL, "LOG takes since, until, hook id and all|success|error");
	if (arg_int(r, 0, &f.since) < 0 || arg_int(r, 1, &f.until) < 0 || arg_int(r, 2, &f.hook_id) < 0)
		return r->err.code;
	arg(r, 3, buf, sizeof(buf));
	if (strcmp(buf, "success") == 0)
		f.success_only = true;
	else if (strcmp(buf, "error") == 0)
		f.error_only = true;
	else if (strcmp(buf, "all") != 0)
		return hb_error_set(&r->err, -HB_EINVAL, "LOG filter must be all, success or error");
	doc = hb_doc_new("HOOKLOG", &root);
	if (doc == NULL)
		return hb_error_set(&r->err, -HB_ENOMEM, "out of memory");
	rc = hb_store_exec_query(h->store, &f, log_append, root, &r->err);
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
	int64_t seq, timeout_ms;
	int rc;

	if (arg_id(r, 0, "sequence number", &seq) < 0 || arg_id(r, 1, "timeout in milliseconds", &timeout_ms) < 0)
		return r->err.code;
	if (timeout_ms > 3600000)
		return hb_error_set(&r->err, -HB_EINVAL, "VERDICT timeout must be at most 3600000 ms");
	rc = hem_verdict_request(h, hb_frame_data(r->fr, 0), hb_frame_size(r->fr, 0), r->delimiter, seq, timeout_ms,
				 &r->err);
	if (rc == 0)
		r->deferred = true;
	return rc;
}

static int dispatch_verb(struct hem *h, struct request *r)
{
	static const struct {
		const char *verb;
		int (*fn)(struct hem *, struct request *);
		size_t min_args;
	} verbs[] = {
		{ "ALLOCATE", do_allocate, 1 }, { "INFO", do_info, 1 }, { "POOL", do_pool, 0 },
		{ "UPDATE", do_update, 2 }, { "RENAME", do_rename, 2 }, { "DELETE", do_delete, 1 },
		{ "RETRY", do_retry, 2 }, { "LOG", do_log, 4 }, { "VERDICT", do_verdict, 2 },
	};

	if (hb_frame_is(r->fr, r->body, "LOCK"))
		return r->nargs >= 1 ? do_lock(h, r, true) : hb_error_set(&r->err, -HB_EINVAL, "LOCK takes a hook id");
	if (hb_frame_is(r->fr, r->body, "UNLOCK"))
		return r->nargs >= 1 ? do_lock(h, r, false) : hb_error_set(&r->err, -HB_EINVAL, "UNLOCK takes a hook id");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!hb_frame_is(r->fr, r->body, verbs[i].verb))
			continue;
		if (r->nargs < verbs[i].min_args)
			return hb_error_set(&r->err, -HB_EINVAL, "%s takes %zu argument(s)", verbs[i].verb, verbs[i].min_args);
		return verbs[i].fn(h, r);
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
	bool delimiter;
	int rc;

	rc = hb_frames_recv(h->ctl, ZMQ_DONTWAIT, CONTROL_FRAMES_MAX, &fr, &err);
	if (rc == 0 || fr.n == 0) {
		hb_frames_free(&fr);
		return rc;
	}
	delimiter = fr.n > 1 && hb_frame_size(&fr, 1) == 0;
	r.fr = &fr;
	r.body = delimiter ? 2 : 1;
	r.delimiter = delimiter;
	if (rc < 0)
		hb_error_set(&r.err, -HB_EINVAL, "%s", err.msg);
	else if (fr.n <= r.body)
		hb_error_set(&r.err, -HB_EINVAL, "empty request");
	else {
		r.nargs = fr.n - r.body - 1;
		dispatch_verb(h, &r);
	}
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
