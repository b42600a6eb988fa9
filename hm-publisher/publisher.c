/* publisher.c -- the bus daemon: validate, sequence, journal, publish, then acknowledge. */
#include "publisher.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <zmq.h>

#include "base64.h"
#include "cleanup.h"
#include "curve.h"
#include "fault.h"
#include "journal.h"
#include "local.h"
#include "localproto.h"
#include "localreq.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "notify.h"
#include "oci_state.h"
#include "pool.h"
#include "pubmetrics.h"
#include "pubreload.h"
#include "schema.h"
#include "signals.h"
#include "task.h"
#include "xmlcodec.h"
#include "zap.h"
#include "zmqutil.h"

#define BATCH_MAX 128                  /* requests taken into one group commit (PERFORMANCE.md, 43) */
#define HELPERS_MAX 3                  /* threads beside the loop's that check and encode a group */
#define PARALLEL_MIN 16                /* requests checked or encoded at once worth waking them for */
#define REQUEST_FRAMES_MAX 8           /* identity, delimiter, verb and its arguments */
#define REPLAY_EVENTS_MAX 1000         /* events in one REPLAY answer */
#define REPLAY_BYTES_MAX (16u << 20)   /* content bytes in one REPLAY answer */
/* A local request carries at most the message's own size of arguments and
 * object, or a container state and its config.json, plus room. */
#define LOCAL_ROOM (HB_OCI_STATE_MAX + HB_OCI_CONFIG_MAX + (1u << 20))

enum request_kind { REQ_EMIT, REQ_REPLAY, REQ_ERROR };

/* One request of the current group, with what its answer needs. */
struct request {
	enum request_kind kind;
	void *sock;            /* NULL for a local request */
	int fd;                /* a local request: its connection, -1 once answered */
	bool invalid;          /* REQ_ERROR of a local request: bad arguments or input */
	zmq_msg_t identity;
	bool delimiter;        /* a REQ client: the reply starts with an empty frame */
	char *error;           /* REQ_ERROR: the reason */
	const char *why;       /* REQ_ERROR: the metric's reason label (NULL: protocol) */
	uint64_t seq;          /* REQ_EMIT: assigned; REQ_REPLAY: from */
	zmq_msg_t input;       /* REQ_EMIT: the message frame as received */
	bool input_xml;        /* input is XML (the local socket), not base64 */
	hb_message *msg;       /* REQ_EMIT: once checked */
	hb_keys keys;
	char *content;         /* REQ_EMIT: base64 with SEQ */
	size_t len;
	char *keys_joined;
};

/* What a thread needs of libxml2 to check and encode messages: its own
 * parser, serializer and validation context. */
struct lane {
	hb_schema *schema;
	hb_xml_codec *codec;   /* libxml2's parser and serializer, kept between messages */
};

struct publisher {
	void *ctx;
	void *pub;
	void **cmd;
	size_t ncmd;
	hb_journal *journal;
	hb_task *sync;         /* syncs a committed group's journal while the loop prepares the next */
	hb_pool *pool;         /* checks and encodes a group's EMITs on every CPU */
	struct lane *lanes;    /* one per lane of the pool; lanes[0] is the loop's */
	size_t nlanes;
	hb_zap *zap;           /* the ZAP handler when CURVE is on */
	hb_local *local;       /* the local ingest socket, NULL when LOCAL_ENDPOINT is empty */
	size_t max_message;
	struct request groups[2][BATCH_MAX];
	struct request *batch; /* the group being taken, checked and journaled: one of groups */
	size_t nbatch;
	size_t nchecked;       /* requests of the group that batch_check() has seen */
	struct request *held;  /* the other: committed, its sync running in the task; or NULL */
	size_t nheld;
	uint64_t held_seq;     /* the held group's last sequence number */
	uint64_t accepted, rejected;
};

static void request_clear(struct request *r)
{
	if (r->sock == NULL && r->fd >= 0)
		close(r->fd);
	zmq_msg_close(&r->identity);
	zmq_msg_close(&r->input);
	free(r->error);
	hb_message_free(r->msg);
	hb_keys_free(&r->keys);
	free(r->content);
	free(r->keys_joined);
	memset(r, 0, sizeof(*r));
}

/* Marks r as refused with the formatted reason. */
static void request_refuse(struct request *r, const char *reason)
{
	r->kind = REQ_ERROR;
	free(r->error);
	r->error = strdup(reason);
}

/* Sends the routing envelope of r's reply. */
static int reply_envelope(struct request *r, hb_error *err)
{
	int rc = hb_zmq_send(r->sock, zmq_msg_data(&r->identity), zmq_msg_size(&r->identity), true, err);

	if (rc == 0 && r->delimiter)
		rc = hb_zmq_send(r->sock, "", 0, true, err);
	return rc;
}

static int reply_line(struct request *r, const char *line, hb_error *err)
{
	int rc;

	if (r->sock == NULL) {
		rc = hb_local_answer(r->fd, line, err);
		r->fd = -1;
		return rc;
	}
	rc = reply_envelope(r, err);

	return rc < 0 ? rc : hb_zmq_send(r->sock, line, strlen(line), false, err);
}

/* Joins the keys of r with newlines for the journal. */
static char *keys_join(const hb_keys *keys)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < keys->n; i++)
		len += strlen(keys->key[i]) + 1;
	s = p = malloc(len);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < keys->n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", keys->key[i]);
	*p = '\0';
	return s;
}

/* A pool item (any thread, its own lane): decodes and checks the message
 * of the i-th request taken since the last check if it is an EMIT, given as
 * base64 or (from the local socket) as the XML it stands for, and derives
 * what publishing needs; the sequence number is assigned later, in the
 * group's journal transaction. */
static void request_check(void *ctx, size_t lane, size_t i)
{
	struct publisher *p = ctx;
	struct request *r = &p->batch[p->nchecked + i];
	const struct lane *l = &p->lanes[lane];
	const char *text = zmq_msg_data(&r->input);
	size_t len = zmq_msg_size(&r->input);
	hb_error err = { 0 };
	int rc;

	if (r->kind != REQ_EMIT)
		return;
	if (!r->input_xml)
		rc = hb_message_decode(l->codec, text, len, p->max_message, l->schema, &r->msg, &err);
	else if (len > p->max_message)
		rc = hb_error_set(&err, -HB_ETOOBIG, "message of %zu bytes is larger than the limit of %zu bytes",
				  len, p->max_message);
	else
		rc = hb_message_parse(l->codec, text, len, l->schema, &r->msg, &err);
	if (rc < 0 || hb_message_keys(r->msg, &r->keys, &err) < 0) {
		request_refuse(r, err.msg);
		r->why = "invalid";
	}
}

/* Checks the EMITs taken into the group since the last check, spread over
 * the pool's lanes; returns how many requests were taken since then. */
static size_t batch_check(struct publisher *p)
{
	size_t n = p->nbatch - p->nchecked;

	hb_pool_for(p->pool, n, request_check, p);
	for (size_t i = p->nchecked; i < p->nbatch; i++)
		if (p->batch[i].kind == REQ_EMIT)
			hb_metric_addl(PM_RECEIVED, 1, "type=\"%s\"",
				       p->batch[i].msg->type == HB_MSG_API ? "api" : "state");
	p->nchecked = p->nbatch;
	return n;
}

/* Keeps an EMIT's message frame for batch_check(). */
static void request_emit(struct request *r, hb_frames *fr, size_t body)
{
	r->kind = REQ_EMIT;
	if (fr->n != body + 2) {
		request_refuse(r, "EMIT takes exactly one frame: the base64 HOOK_MESSAGE");
		return;
	}
	zmq_msg_move(&r->input, &fr->f[body + 1]);
}

/* Takes the next complete request of the local socket into the next batch
 * slot: its event is built as emit or oci-hook would build it, then goes
 * through exactly what an EMIT goes through from its XML on (batch_check):
 * the text that an EMIT's base64 would have decoded to is parsed and
 * validated again.  Returns 1 when one was taken. */
static int request_take_local(struct publisher *p)
{
	struct request *r = &p->batch[p->nbatch];
	hb_autofree char *buf = NULL;
	hb_message *msg = NULL;
	hb_error err = { 0 };
	const char *xml;
	size_t len, xlen;
	bool usage;
	int fd;

	if (p->local == NULL || hb_local_take(p->local, &fd, &buf, &len) == 0)
		return 0;
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	zmq_msg_init(&r->identity);
	zmq_msg_init(&r->input);
	p->nbatch++;
	if (hb_local_build(buf, len, &msg, &usage, &err) < 0) {
		request_refuse(r, err.msg);
		r->invalid = usage;
		r->why = usage ? "invalid" : NULL;
		return 1;
	}
	xml = hb_xml_codec_dump(p->lanes[0].codec, xmlDocGetRootElement(msg->doc), &xlen);
	r->kind = REQ_EMIT;
	r->input_xml = true;
	zmq_msg_close(&r->input);
	if (xml == NULL || zmq_msg_init_size(&r->input, xlen) < 0) {
		zmq_msg_init(&r->input);
		request_refuse(r, "out of memory");
	} else {
		memcpy(zmq_msg_data(&r->input), xml, xlen);
	}
	hb_message_free(msg);
	return 1;
}

static void request_replay(struct request *r, const hb_frames *fr, size_t body)
{
	const char *arg = NULL;
	char buf[32], *end;
	size_t n;

	r->kind = REQ_REPLAY;
	if (fr->n == body + 2) {
		n = hb_frame_size(fr, body + 1);
		if (n > 0 && n < sizeof(buf)) {
			memcpy(buf, hb_frame_data(fr, body + 1), n);
			buf[n] = '\0';
			arg = buf;
		}
	} else if (fr->n == body + 1) {
		n = hb_frame_size(fr, body);
		if (n > 7 && n < sizeof(buf)) {
			memcpy(buf, hb_frame_data(fr, body), n);
			buf[n] = '\0';
			arg = buf + 7;
		}
	}
	errno = 0;
	if (arg == NULL || *arg < '0' || *arg > '9' || (r->seq = strtoull(arg, &end, 10), errno != 0 || *end != '\0'))
		request_refuse(r, "REPLAY takes a sequence number: REPLAY <from-seq>");
}

/* Reads one request from sock into the next batch slot; returns 1 when one
 * was taken, 0 when the socket had none. */
static int request_take(struct publisher *p, void *sock)
{
	hb_frames fr = { 0 };
	hb_error err = { 0 };
	struct request *r = &p->batch[p->nbatch];
	size_t body;
	int rc;

	rc = hb_frames_recv(sock, ZMQ_DONTWAIT, REQUEST_FRAMES_MAX, &fr, &err);
	if (rc == 0) {
		hb_frames_free(&fr);
		return 0;
	}
	if (fr.n == 0) {
		hb_log(HB_LOG_WARN, "command endpoint: %s", err.msg);
		hb_frames_free(&fr);
		return 1;
	}
	memset(r, 0, sizeof(*r));
	r->sock = sock;
	zmq_msg_init(&r->identity);
	zmq_msg_init(&r->input);
	zmq_msg_copy(&r->identity, &fr.f[0]);
	r->delimiter = fr.n > 1 && hb_frame_size(&fr, 1) == 0;
	body = r->delimiter ? 2 : 1;
	p->nbatch++;
	if (rc < 0)
		request_refuse(r, err.msg);
	else if (fr.n <= body)
		request_refuse(r, "empty request");
	else if (hb_frame_is(&fr, body, "EMIT"))
		request_emit(r, &fr, body);
	else if (hb_frame_is(&fr, body, "REPLAY") ||
		 (hb_frame_size(&fr, body) > 7 && memcmp(hb_frame_data(&fr, body), "REPLAY ", 7) == 0))
		request_replay(r, &fr, body);
	else
		request_refuse(r, "unknown verb (expected EMIT or REPLAY)");
	hb_frames_free(&fr);
	return 1;
}

/* A pool item (any thread, its own lane): the content and journal keys of
 * the group's i-th request if it is an EMIT (left NULL when memory runs
 * out); its document, no longer needed, is freed.  It does not change the
 * document: documents parsed by one lane share that lane's dictionary,
 * which a change to the tree could write to (hb_message_set_seq(), in the
 * loop's thread). */
static void request_encode(void *ctx, size_t lane, size_t i)
{
	struct publisher *p = ctx;
	struct request *r = &p->batch[i];

	if (r->kind != REQ_EMIT)
		return;
	r->content = hb_message_encode(p->lanes[lane].codec, r->msg, &r->len);
	r->keys_joined = keys_join(&r->keys);
	hb_message_drop_doc(r->msg);
}

/* Takes what has arrived on every endpoint into the group, up to a batch. */
static void batch_take(struct publisher *p)
{
	for (bool took = true; took && p->nbatch < BATCH_MAX;) {
		took = false;
		for (size_t i = 0; i < p->ncmd && p->nbatch < BATCH_MAX; i++)
			took |= request_take(p, p->cmd[i]) > 0;
		while (p->nbatch < BATCH_MAX && request_take_local(p) > 0)
			took = true;
	}
}

/* Assigns sequence numbers to the group's valid EMITs, encodes them over
 * the pool's lanes and journals them in one transaction, not yet synced;
 * returns whether it committed any.  On failure every EMIT of the group is
 * refused. */
static bool batch_journal(struct publisher *p)
{
	hb_error err = { 0 };
	uint64_t seq;
	bool any = false;
	int rc = 0;

	for (size_t i = 0; i < p->nbatch; i++)
		any |= p->batch[i].kind == REQ_EMIT;
	if (!any)
		return false;
	rc = hb_journal_begin(p->journal, &err);
	seq = hb_journal_last_seq(p->journal);
	for (size_t i = 0; i < p->nbatch && rc == 0; i++) {
		struct request *r = &p->batch[i];
		if (r->kind == REQ_EMIT) {
			r->seq = ++seq;
			rc = hb_message_set_seq(r->msg, r->seq, &err);
		}
	}
	if (rc == 0)
		hb_pool_for(p->pool, p->nbatch, request_encode, p);
	for (size_t i = 0; i < p->nbatch && rc == 0; i++) {
		struct request *r = &p->batch[i];
		if (r->kind != REQ_EMIT)
			continue;
		if (r->content == NULL || r->keys_joined == NULL)
			rc = hb_error_set(&err, -HB_ENOMEM, "out of memory");
		else
			rc = hb_journal_append(p->journal, r->seq, r->keys_joined, r->content, r->len, &err);
	}
	if (rc == 0)
		rc = hb_journal_commit(p->journal, &err);
	else
		hb_journal_rollback(p->journal);
	if (rc == 0 && hb_fault_hit("publisher_kill_after_journal"))
		_exit(137);   /* test seam (fault.h): a crash between journal and publish */
	if (rc < 0) {
		char reason[HB_ERROR_MAX + 32];
		hb_log(HB_LOG_ERROR, "journal: %s", err.msg);
		snprintf(reason, sizeof(reason), "journal failure: %s", err.msg);
		for (size_t i = 0; i < p->nbatch; i++)
			if (p->batch[i].kind == REQ_EMIT) {
				request_refuse(&p->batch[i], reason);
				p->batch[i].why = "journal";
			}
	}
	return rc == 0;
}

static int publish(struct publisher *p, const struct request *r, hb_error *err)
{
	for (size_t k = 0; k < r->keys.n; k++) {
		int rc = hb_zmq_send(p->pub, r->keys.key[k], strlen(r->keys.key[k]), true, err);
		if (rc == 0)
			rc = hb_zmq_send(p->pub, r->content, r->len, false, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The events of one REPLAY answer, gathered before the header is known. */
struct replay {
	struct {
		char *keys;
		char *content;
		size_t len;
	} ev[REPLAY_EVENTS_MAX];
	size_t n;
	uint64_t first;
};

static int replay_collect(void *ctx, uint64_t seq, const char *keys, const char *content, size_t len,
			  hb_error *err)
{
	struct replay *rp = ctx;

	if (rp->n == 0)
		rp->first = seq;
	rp->ev[rp->n].keys = strdup(keys);
	rp->ev[rp->n].content = malloc(len + 1);
	if (rp->ev[rp->n].keys == NULL || rp->ev[rp->n].content == NULL) {
		free(rp->ev[rp->n].keys);
		free(rp->ev[rp->n].content);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	memcpy(rp->ev[rp->n].content, content, len);
	rp->ev[rp->n].len = len;
	rp->n++;
	return 0;
}

/* Answers REPLAY <from>: "BATCH <first> <next> <head>", then a key frame and
 * a content frame for every key of every event in the batch. */
static int answer_replay(struct publisher *p, struct request *r, hb_error *err)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	uint64_t from = r->seq ? r->seq : 1, next = from;
	char header[96];
	int rc;

	if (rp == NULL)
		return reply_line(r, "ERROR out of memory", err);
	rc = hb_journal_read(p->journal, from, hb_journal_durable_seq(p->journal), REPLAY_EVENTS_MAX,
			     REPLAY_BYTES_MAX, replay_collect, rp, &next, err);
	if (rc < 0) {
		char line[HB_ERROR_MAX + 16];
		snprintf(line, sizeof(line), "ERROR %s", err->msg);
		rc = reply_line(r, line, err);
		goto out;
	}
	snprintf(header, sizeof(header), "BATCH %" PRIu64 " %" PRIu64 " %" PRIu64, rp->n ? rp->first : next, next,
		 hb_journal_durable_seq(p->journal));
	/* Counted before the answer leaves, so that whoever got it sees it counted. */
	hb_metric_add(PM_REPLAYS, 1);
	rc = reply_envelope(r, err);
	if (rc == 0)
		rc = hb_zmq_send(r->sock, header, strlen(header), rp->n > 0, err);
	for (size_t i = 0; i < rp->n && rc == 0; i++) {
		char *save = NULL;
		for (char *key = strtok_r(rp->ev[i].keys, "\n", &save); key && rc == 0; key = strtok_r(NULL, "\n", &save)) {
			bool last = i + 1 == rp->n && save != NULL && *save == '\0';
			rc = hb_zmq_send(r->sock, key, strlen(key), true, err);
			if (rc == 0)
				rc = hb_zmq_send(r->sock, rp->ev[i].content, rp->ev[i].len, !last, err);
		}
	}
	hb_log(HB_LOG_DEBUG, "replayed %zu events from %" PRIu64, rp->n, from);
out:
	for (size_t i = 0; i < rp->n; i++) {
		free(rp->ev[i].keys);
		free(rp->ev[i].content);
	}
	free(rp);
	return rc;
}

/* Publishes and answers the n requests of a group, in arrival order. */
static void group_answer(struct publisher *p, struct request *group, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct request *r = &group[i];
		hb_error err = { 0 };
		char line[HB_ERROR_MAX + 16];
		int rc = 0;

		switch (r->kind) {
		case REQ_EMIT:
			/* A message that is journaled is acknowledged even if the PUB
			 * send failed: subscribers find it through REPLAY, and an
			 * emitter that retried would duplicate it. */
			if (publish(p, r, &err) < 0)
				hb_log(HB_LOG_ERROR, "seq %" PRIu64 " journaled but not published (subscribers will "
				       "replay it): %s", r->seq, err.msg);
			p->accepted++;
			hb_metric_addl(PM_PUBLISHED, 1, "type=\"%s\"", r->msg->type == HB_MSG_API ? "api" : "state");
			hb_log(HB_LOG_DEBUG, "seq %" PRIu64 " published: %s", r->seq, r->keys.key[0]);
			snprintf(line, sizeof(line), "ACK %" PRIu64, r->seq);
			rc = reply_line(r, line, &err);
			break;
		case REQ_REPLAY:
			rc = answer_replay(p, r, &err);
			break;
		case REQ_ERROR:
			p->rejected++;
			hb_metric_addl(PM_REJECTED, 1, "reason=\"%s\"", r->why ? r->why : "protocol");
			hb_log(HB_LOG_WARN, "request refused: %s", r->error ? r->error : "out of memory");
			snprintf(line, sizeof(line), "%s %s", r->invalid ? "INVALID" : "ERROR",
				 r->error ? r->error : "out of memory");
			rc = reply_line(r, line, &err);
			break;
		}
		if (rc < 0)
			hb_log(HB_LOG_WARN, "reply lost: %s", err.msg);
		request_clear(r);
	}
}

static int sync_run(void *ctx, hb_error *err)
{
	return hb_journal_sync(ctx, err);
}

/* The held group's sync has returned 0: publishes and answers it. */
static void held_answer(struct publisher *p)
{
	hb_journal_durable(p->journal, p->held_seq);
	group_answer(p, p->held, p->nheld);
	p->held = NULL;
	p->nheld = 0;
}

/* Waits for the held group's sync, if one runs, and answers that group. */
static int held_finish(struct publisher *p, hb_error *err)
{
	int rc;

	if (p->held == NULL)
		return 0;
	rc = hb_task_wait(p->sync, err);
	if (rc < 0)
		return rc;
	held_answer(p);
	return 0;
}

/* Journals the group taken and checked, and answers the held group, which
 * came before it.  A group that committed nothing is answered at once.
 * One that did is held until its sync: when requests of the next group have
 * already arrived (and overlap is allowed), the task syncs while the loop
 * prepares that group; else the loop syncs and answers it here.  A failed
 * sync leaves the journal's state on the disk unknown: the error is
 * returned and the daemon stops. */
static int batch_finish(struct publisher *p, bool overlap, hb_error *err)
{
	bool committed = batch_journal(p);
	int rc;

	publisher_metrics_journal(p->journal);
	if ((rc = held_finish(p, err)) < 0)
		return rc;
	if (!committed) {
		group_answer(p, p->batch, p->nbatch);
		p->nbatch = p->nchecked = 0;
		return 0;
	}
	p->held = p->batch;
	p->nheld = p->nbatch;
	p->held_seq = hb_journal_last_seq(p->journal);
	p->batch = p->held == p->groups[0] ? p->groups[1] : p->groups[0];
	p->nbatch = p->nchecked = 0;
	if (overlap)
		batch_take(p);
	hb_metric_addl(PM_SYNCS, 1, "overlapped=\"%s\"", p->nbatch > 0 ? "true" : "false");
	if (p->nbatch > 0) {
		hb_task_start(p->sync, sync_run, p->journal);
		return 0;
	}
	if ((rc = hb_journal_sync(p->journal, err)) < 0)
		return rc;
	held_answer(p);
	return 0;
}

static int64_t cfg_int(const hb_config *cfg, const char *key, int64_t min, int64_t max, hb_error *err, int *rc)
{
	int64_t v = 0;

	if (*rc == 0)
		*rc = hb_config_int(cfg, key, min, max, &v, err);
	return v;
}

int hb_publisher_check(const hb_config *cfg, hb_error *err)
{
	int rc = 0;

	cfg_int(cfg, "JOURNAL_RETENTION", 1, INT64_MAX / 2, err, &rc);
	cfg_int(cfg, "HWM", 0, INT32_MAX, err, &rc);
	cfg_int(cfg, "MAX_MESSAGE_SIZE", 1024, 256 << 20, err, &rc);
	cfg_int(cfg, "DEBUG_LEVEL", 0, 3, err, &rc);
	if (rc < 0)
		return rc;
	if (hb_config_str(cfg, "JOURNAL") == NULL || hb_config_str(cfg, "JOURNAL")[0] == '\0')
		return hb_error_set(err, -HB_EINVAL, "JOURNAL must name a file");
	if (hb_config_str(cfg, "PUBLISHER_ENDPOINT") == NULL || hb_config_str(cfg, "PUBLISHER_ENDPOINT")[0] == '\0')
		return hb_error_set(err, -HB_EINVAL, "PUBLISHER_ENDPOINT must be set");
	if (hb_config_count(cfg, "COMMAND_ENDPOINT") == 0)
		return hb_error_set(err, -HB_EINVAL, "COMMAND_ENDPOINT must be set");
	if (hb_config_str(cfg, "LOCAL_ENDPOINT")[0] != '\0' &&
	    (hb_local_path(hb_config_str(cfg, "LOCAL_ENDPOINT")) == NULL ||
	     strlen(hb_config_str(cfg, "LOCAL_ENDPOINT")) - 7 >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		return hb_error_set(err, -HB_EINVAL, "LOCAL_ENDPOINT must be empty or unix:// and an absolute socket "
				    "path of at most %zu bytes", sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return hb_curve_server_load(cfg, &(hb_curve_server){ 0 }, err);
}

static void publisher_close(struct publisher *p)
{
	int linger = 1000;

	hb_task_free(p->sync);
	for (size_t i = 0; i < p->nheld; i++)
		request_clear(&p->held[i]);
	for (size_t i = 0; p->batch != NULL && i < p->nbatch; i++)
		request_clear(&p->batch[i]);

	for (size_t i = 0; i < p->ncmd; i++)
		zmq_close(p->cmd[i]);
	free(p->cmd);
	hb_zap_close(p->zap);
	hb_local_close(p->local);
	if (p->pub != NULL) {
		zmq_setsockopt(p->pub, ZMQ_LINGER, &linger, sizeof(linger));
		zmq_close(p->pub);
	}
	if (p->ctx != NULL)
		zmq_ctx_term(p->ctx);
	hb_journal_close(p->journal);
	hb_pool_free(p->pool);
	for (size_t i = 0; i < p->nlanes; i++) {
		hb_schema_free(p->lanes[i].schema);
		hb_xml_codec_free(p->lanes[i].codec);
	}
	free(p->lanes);
}

/* One lane per thread of the pool, each with its own compiled schema: a
 * validation walks its schema's structures, which are not shared between
 * threads. */
static int publisher_lanes(struct publisher *p, hb_error *err)
{
	size_t n;
	int rc;

	/* libxml2's global state is set up once, here, before any helper uses it. */
	xmlInitParser();
	rc = hb_pool_new(hb_pool_helpers_wanted(HELPERS_MAX), PARALLEL_MIN, "hm-pub-check", &p->pool, err);
	if (rc < 0)
		return rc;
	n = hb_pool_lanes(p->pool);
	p->lanes = calloc(n, sizeof(*p->lanes));
	if (p->lanes == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (p->nlanes = 0; p->nlanes < n; p->nlanes++) {
		struct lane *l = &p->lanes[p->nlanes];
		if ((rc = hb_schema_load("hook_message.xsd", &l->schema, err)) < 0 ||
		    (rc = hb_xml_codec_new(&l->codec, err)) < 0) {
			p->nlanes++;
			return rc;
		}
	}
	return 0;
}

static int publisher_open(struct publisher *p, const hb_config *cfg, hb_error *err)
{
	int rc = 0, hwm, zero = 0;
	int64_t retention, max_msg, guard;
	hb_curve_server curve;

	retention = cfg_int(cfg, "JOURNAL_RETENTION", 1, INT64_MAX / 2, err, &rc);
	hwm = (int)cfg_int(cfg, "HWM", 0, INT32_MAX, err, &rc);
	max_msg = cfg_int(cfg, "MAX_MESSAGE_SIZE", 1024, 256 << 20, err, &rc);
	if (rc < 0)
		return rc;
	p->max_message = (size_t)max_msg;
	/* Frames up to twice the base64 size of the limit get a clear ERROR;
	 * libzmq drops a peer that sends anything larger still. */
	guard = (max_msg + 2) / 3 * 4 * 2 + 65536;
	rc = publisher_lanes(p, err);
	if (rc == 0)
		rc = hb_curve_server_load(cfg, &curve, err);
	if (rc == 0)
		rc = hb_journal_open(hb_config_str(cfg, "JOURNAL"), retention, &p->journal, err);
	if (rc == 0)
		rc = hb_task_new("hm-pub-sync", &p->sync, err);
	if (rc < 0)
		return rc;
	p->ctx = zmq_ctx_new();
	p->pub = p->ctx ? zmq_socket(p->ctx, ZMQ_PUB) : NULL;
	if (p->pub == NULL)
		return hb_error_set(err, -HB_EIO, "cannot create sockets: %s", zmq_strerror(errno));
	/* The ZAP handler is there before any CURVE socket binds. */
	if (curve.on && (rc = hb_zap_open(p->ctx, hb_config_str(cfg, "CURVE_ALLOWED_CLIENTS"), &p->zap, err)) < 0)
		return rc;
	if ((rc = hb_curve_server_apply(&curve, p->pub, hb_config_str(cfg, "PUBLISHER_ENDPOINT"), err)) < 0)
		return rc;
	zmq_setsockopt(p->pub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(p->pub, ZMQ_LINGER, &zero, sizeof(zero));
	rc = hb_zmq_bind(p->pub, hb_config_str(cfg, "PUBLISHER_ENDPOINT"), err);
	if (rc < 0)
		return hb_error_prefix(err, "PUBLISHER_ENDPOINT");
	p->ncmd = hb_config_count(cfg, "COMMAND_ENDPOINT");
	p->cmd = calloc(p->ncmd, sizeof(*p->cmd));
	if (p->cmd == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->ncmd; i++) {
		const char *ep = hb_config_nth(cfg, "COMMAND_ENDPOINT", i);
		p->cmd[i] = zmq_socket(p->ctx, ZMQ_ROUTER);
		if (p->cmd[i] == NULL)
			return hb_error_set(err, -HB_EIO, "cannot create sockets: %s", zmq_strerror(errno));
		zmq_setsockopt(p->cmd[i], ZMQ_MAXMSGSIZE, &guard, sizeof(guard));
		zmq_setsockopt(p->cmd[i], ZMQ_LINGER, &zero, sizeof(zero));
		if ((rc = hb_curve_server_apply(&curve, p->cmd[i], ep, err)) < 0)
			return rc;
		rc = hb_zmq_bind(p->cmd[i], ep, err);
		if (rc < 0)
			return hb_error_prefix(err, "COMMAND_ENDPOINT");
	}
	if (hb_config_str(cfg, "LOCAL_ENDPOINT")[0] != '\0' &&
	    (rc = hb_local_open(hb_config_str(cfg, "LOCAL_ENDPOINT"), p->max_message + LOCAL_ROOM, &p->local, err)) < 0)
		return hb_error_prefix(err, "LOCAL_ENDPOINT");
	return 0;
}

int hb_publisher_run(const hb_config *cfg, hb_error *err)
{
	struct publisher *p = calloc(1, sizeof(*p));
	zmq_pollitem_t *items = NULL;
	int rc, nitems, nfixed;

	if (p == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	p->batch = p->groups[0];
	rc = publisher_open(p, cfg, err);
	if (rc == 0 && (items = calloc(p->ncmd + 2 + HB_LOCAL_CONNS_MAX, sizeof(*items))) == NULL)
		rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < p->ncmd; i++)
		items[i] = (zmq_pollitem_t){ .socket = p->cmd[i], .events = ZMQ_POLLIN };
	nitems = (int)p->ncmd;
	if (p->zap != NULL)
		items[nitems++] = (zmq_pollitem_t){ .socket = hb_zap_socket(p->zap), .events = ZMQ_POLLIN };
	nfixed = nitems;
	hb_log(HB_LOG_INFO, "serving: publisher %s, %zu command endpoint(s)%s%s, journal %s at seq %" PRIu64,
	       hb_config_str(cfg, "PUBLISHER_ENDPOINT"), p->ncmd, p->local ? ", local socket " : "",
	       p->local ? hb_config_str(cfg, "LOCAL_ENDPOINT") : "", hb_config_str(cfg, "JOURNAL"),
	       hb_journal_last_seq(p->journal));
	if ((rc = publisher_metrics_start(cfg, err)) < 0)
		goto out;
	publisher_metrics_journal(p->journal);
	hb_notify_ready("serving");
	while (!hb_sig_term) {
		if (hb_sig_hup) {
			hb_sig_hup = 0;
			publisher_reload(cfg);
		}
		nitems = nfixed;
		if (p->local != NULL)
			nitems += (int)hb_local_pollitems(p->local, items + nfixed);
		/* A group begun while the last one's sync runs goes on at once. */
		rc = zmq_poll(items, nitems, p->nbatch > 0 ? 0 : p->local ? hb_local_wait_ms(p->local, 1000) : 1000);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			rc = hb_error_set(err, -HB_EIO, "poll failed: %s", zmq_strerror(errno));
			goto out;
		}
		if (p->zap != NULL && (items[p->ncmd].revents & ZMQ_POLLIN))
			hb_zap_handle(p->zap);
		if (p->local != NULL)
			hb_local_handle(p->local, items + nfixed, (size_t)(nitems - nfixed));
		/* Take and check what has arrived on every endpoint, then what
		 * arrived meanwhile (up to a batch), so one commit covers all of it. */
		do
			batch_take(p);
		while (batch_check(p) > 0 && p->nbatch < BATCH_MAX);
		if ((rc = batch_finish(p, true, err)) < 0)
			goto out;
	}
	/* What was taken while the last group synced is answered before the end. */
	batch_check(p);
	if ((rc = batch_finish(p, false, err)) < 0)
		goto out;
	hb_notify_stopping();
	hb_log(HB_LOG_INFO, "stopping at seq %" PRIu64 " (%" PRIu64 " accepted, %" PRIu64 " refused)",
	       hb_journal_last_seq(p->journal), p->accepted, p->rejected);
out:
	publisher_metrics_stop();
	free(items);
	publisher_close(p);
	free(p);
	return rc;
}
