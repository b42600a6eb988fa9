/* daemon.c -- hem's event loop: subscriptions, events from the bus, replay of gaps, and shutdown. */
#include "hem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "args.h"
#include "cleanup.h"
#include "ctlendpoint.h"
#include "curve.h"
#include "hemmetrics.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "reload.h"
#include "signals.h"
#include "zmqutil.h"

#define SHUTDOWN_GRACE_MS 10000   /* running hooks may finish for this long after SIGTERM */
#define IDLE_CHECK_MS 2000        /* ask the publisher for missed events after this much quiet */
#define IDLE_CHECK_MAX_MS 60000   /* ... backing off to this while it does not answer */
#define REPLAY_TIMEOUT_MS 2000
#define BUS_BATCH 32              /* bus messages taken per loop turn: hooks that end are seen between turns */

const hb_config_key hb_hem_config_keys[] = {
	{ "SUBSCRIBER_ENDPOINT", "tcp://127.0.0.1:2101", false },
	{ "PUBLISHER_COMMAND_ENDPOINT", "tcp://127.0.0.1:2102", false },
	{ "CONTROL_ENDPOINT", HB_CTL_DEFAULT_ENDPOINT, false },
	{ "LOCAL_ENDPOINT", "", false },
	{ "DATABASE", "/var/lib/hookbus/hem.db", false },
	{ "HOOK_BASE_PATH", "/var/lib/hookbus/hooks", false },
	{ "REMOTE_HOOK_BASE_PATH", "/var/tmp/hookbus/hooks", false },
	{ "REMOTE_SHELL", "ssh -o BatchMode=yes", false },
	{ "CONCURRENCY", "10", false },
	{ "BLOCKING_CONCURRENCY", "2", false },
	{ "DEFAULT_TIMEOUT", "0", false },
	{ "LOG_RETENTION", "20", false },
	{ "OUTPUT_LIMIT", "65536", false },
	{ "MAX_MESSAGE_SIZE", "4194304", false },
	{ "RESOURCES", HB_CONFIG_DIR "/resources.conf", false },
	{ "METRICS_LISTEN", "", false },
	{ "DEBUG_LEVEL", "2", false },
	{ "LOG", "stderr", false },
	{ "CURVE_SERVER_PUBLIC_KEY", "", false },
	{ "CURVE_PUBLIC_KEY", "", false },
	{ "CURVE_SECRET_KEY", "", false },
	{ NULL, NULL, false },
};

/* Splits REMOTE_SHELL into words as ARGUMENTS are split (blanks, double
 * quotes group); it must have at least one. */
static int remote_shell_split(const hb_config *cfg, char ***argv, size_t *n, hb_error *err)
{
	int rc = hb_args_expand(hb_config_str(cfg, "REMOTE_SHELL"), NULL, NULL, argv, n, err);

	if (rc < 0)
		return hb_error_prefix(err, "REMOTE_SHELL");
	if (*n == 0) {
		hb_args_free(*argv);
		*argv = NULL;
		return hb_error_set(err, -HB_EINVAL, "REMOTE_SHELL cannot be empty");
	}
	return 0;
}

struct hem_hook *hem_hook_find(struct hem *h, int64_t id)
{
	size_t lo = 0, hi = h->nhooks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->hooks[mid].id == id)
			return &h->hooks[mid];
		if (h->hooks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int hem_hook_set(struct hem *h, int64_t id, hb_hookdef *def, hb_error *err)
{
	struct hem_hook *hook = hem_hook_find(h, id);
	size_t at;

	hem_hook_index_stale(h);
	if (hook != NULL) {
		hb_hookdef_free(hook->def);
		if (def != NULL) {
			hook->def = def;
			/* Its CONCURRENCY may be another: what it held back
			 * is looked at again. */
			hb_store_exec_requeue_parked(h->store);
			h->dispatch_needed = true;
			return 0;
		}
		at = (size_t)(hook - h->hooks);
		memmove(hook, hook + 1, (h->nhooks - at - 1) * sizeof(*hook));
		h->nhooks--;
		return 0;
	}
	if (def == NULL)
		return 0;
	hook = realloc(h->hooks, (h->nhooks + 1) * sizeof(*hook));
	if (hook == NULL) {
		hb_hookdef_free(def);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	h->hooks = hook;
	for (at = h->nhooks; at > 0 && h->hooks[at - 1].id > id; at--)
		h->hooks[at] = h->hooks[at - 1];
	h->hooks[at] = (struct hem_hook){ id, def, 0 };
	h->nhooks++;
	return 0;
}

int hem_hookdef_from_row(struct hem *h, const hb_hook_row *row, hb_hookdef **out, hb_error *err)
{
	hb_template *t = NULL;
	int rc;

	rc = hb_template_parse(row->tmpl, strlen(row->tmpl), &t, err);
	if (rc == 0)
		rc = hb_template_add(t, "NAME", row->name, err);
	if (rc == 0)
		rc = hb_template_add(t, "TYPE", row->type, err);
	if (rc == 0)
		rc = hb_hookdef_new(t, h->res, out, err);
	hb_template_free(t);
	return rc;
}

static int load_one(void *ctx, const hb_hook_row *row, hb_error *err)
{
	struct hem *h = ctx;
	hb_hookdef *def = NULL;

	if (hem_hookdef_from_row(h, row, &def, err) < 0) {
		hb_log(HB_LOG_ERROR, "hook %" PRId64 " (%s) no longer validates and will not run: %s", row->id, row->name,
		       err->msg);
		return 0;
	}
	return hem_hook_set(h, row->id, def, err);
}

int hem_hooks_load(struct hem *h, hb_error *err)
{
	return hb_store_hooks_each(h->store, load_one, h, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hem_subscriptions_sync(struct hem *h, hb_error *err)
{
	char **want = calloc(h->nhooks + 1, sizeof(*want));
	size_t n = 0, i = 0, j = 0;

	if (want == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (size_t k = 0; k < h->nhooks; k++)
		want[n++] = h->hooks[k].def->prefix;
	qsort(want, n, sizeof(*want), cmp_str);
	/* Unique and without prefixes that a shorter one covers (a wildcard's
	 * "EVENT API one.vm." covers "EVENT API one.vm.allocate "): sorted, the
	 * prefixes a kept one covers come right after it.  Then merge against
	 * what is subscribed. */
	if (n > 1) {
		size_t u = 1;
		for (size_t k = 1; k < n; k++)
			if (strncmp(want[k], want[u - 1], strlen(want[u - 1])) != 0)
				want[u++] = want[k];
		n = u;
	}
	while (i < n || j < h->nsubs) {
		int c = i == n ? 1 : j == h->nsubs ? -1 : strcmp(want[i], h->subs[j]);
		if (c < 0) {
			zmq_setsockopt(h->sub, ZMQ_SUBSCRIBE, want[i], strlen(want[i]));
			hb_log(HB_LOG_DEBUG, "subscribed to '%s'", want[i]);
			i++;
		} else if (c > 0) {
			zmq_setsockopt(h->sub, ZMQ_UNSUBSCRIBE, h->subs[j], strlen(h->subs[j]));
			hb_log(HB_LOG_DEBUG, "unsubscribed from '%s'", h->subs[j]);
			j++;
		} else {
			i++;
			j++;
		}
	}
	for (j = 0; j < h->nsubs; j++)
		free(h->subs[j]);
	free(h->subs);
	h->subs = want;
	h->nsubs = n;
	for (i = 0; i < n; i++) {
		want[i] = strdup(want[i]);
		if (want[i] == NULL) {
			h->nsubs = i;
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* Queues the hooks of one event unless it was seen already.  Events are
 * taken in sequence only: one after a gap waits for the gap to be replayed. */
static int event_take(struct hem *h, const hb_message *m, hb_error *err)
{
	if (m->seq == 0)
		return hb_error_set(err, -HB_EINVAL, "message without SEQ");
	if ((int64_t)m->seq <= h->last_seq)
		return 0;
	if ((int64_t)m->seq > h->last_seq + 1)
		return hb_error_set(err, -HB_EIO, "seq %" PRIu64 " left for later: %" PRId64 " is not recorded yet",
				    m->seq, h->last_seq + 1);
	return hem_event_queue(h, m, err);
}

/* Queues the events of one REPLAY answer (its first event is seq first) in
 * one transaction, each event's own a savepoint within it: one commit per
 * batch, not per event.  An event comes once per key, with the same content
 * each time: it is taken once.  One that cannot be decoded is dropped and
 * counted as seen (its seq follows the one before it), so that the events
 * after it are not left waiting for it.  When the batch fails nothing of it
 * is recorded and last_seq goes back to what is: the next replay asks for
 * the same events again. */
static int replay_take(struct hem *h, const hb_frames *fr, uint64_t first, hb_error *err)
{
	int64_t seq, cur = (int64_t)first - 1;
	const char *prev = NULL;
	size_t prev_len = 0;
	int rc = hb_store_begin(h->store, err);

	for (size_t i = 1; rc == 0 && i + 1 < fr->n; i += 2) {
		const char *data = hb_frame_data(fr, i + 1);
		size_t len = hb_frame_size(fr, i + 1);
		hb_message *m = NULL;
		hb_error e = { 0 };

		if (prev != NULL && len == prev_len && memcmp(data, prev, len) == 0)
			continue;
		prev = data;
		prev_len = len;
		cur++;
		if (hb_message_decode(h->codec, data, len, h->max_message, h->msg_schema, &m, &e) < 0) {
			hb_log(HB_LOG_ERROR, "replayed message of seq %" PRId64 " dropped: %s", cur, e.msg);
			hb_metric_add(HM_EVENTS_DROPPED, 1);
			if (cur == h->last_seq + 1 && (rc = hb_store_set_last_seq(h->store, cur, err)) == 0)
				h->last_seq = cur;
			continue;
		}
		cur = (int64_t)m->seq;
		rc = event_take(h, m, err);
		hb_message_free(m);
	}
	if (rc == 0)
		rc = hb_store_commit(h->store, err);
	if (rc < 0) {
		hb_error e = { 0 };
		hb_store_rollback(h->store);
		if (hb_store_last_seq(h->store, &seq, &e) == 0)
			h->last_seq = seq;
	}
	return rc;
}

int hem_replay(struct hem *h, hb_error *err)
{
	for (;;) {
		char from[32];
		const char *frames[1] = { from };
		size_t lens[1];
		hb_frames fr = { 0 };
		unsigned long long first, next, head;
		char header[128];
		int rc;

		snprintf(from, sizeof(from), "REPLAY %" PRId64, h->last_seq + 1);
		lens[0] = strlen(from);
		hb_metric_add(HM_REPLAYS, 1);
		rc = hb_zmq_request_curve(h->ctx, h->pub_command, h->curve, frames, lens, 1, REPLAY_TIMEOUT_MS,
					  1 + 2 * 3 * 1000 + 1, &fr, err);
		if (rc < 0)
			return hb_error_prefix(err, "REPLAY");
		snprintf(header, sizeof(header), "%.*s", (int)hb_frame_size(&fr, 0), hb_frame_data(&fr, 0));
		if (sscanf(header, "BATCH %llu %llu %llu", &first, &next, &head) != 3 || fr.n % 2 != 1) {
			hb_frames_free(&fr);
			return hb_error_set(err, -HB_EIO, "REPLAY answered '%s'", header);
		}
		if ((int64_t)first > h->last_seq + 1 && first <= head) {
			hb_log(HB_LOG_ERROR, "events %" PRId64 "..%llu were pruned from the journal before hem saw them",
			       h->last_seq + 1, first - 1);
			if (hb_store_set_last_seq(h->store, (int64_t)first - 1, err) < 0) {
				hb_frames_free(&fr);
				return err->code;
			}
			h->last_seq = (int64_t)first - 1;
		}
		rc = replay_take(h, &fr, first, err);
		hb_frames_free(&fr);
		if (rc < 0)
			return rc;
		/* Events pruned from the journal or dropped as malformed: move on. */
		if ((int64_t)next - 1 > h->last_seq) {
			if (hb_store_set_last_seq(h->store, (int64_t)next - 1, err) < 0)
				return err->code;
			h->last_seq = (int64_t)next - 1;
		}
		if (next > head)
			return 0;
	}
}

/* Takes the messages waiting on the SUB socket. */
static void bus_read(struct hem *h)
{
	hb_error terr = { 0 };
	bool batch = hb_store_begin(h->store, &terr) == 0;

	/* The events of one turn are queued in one transaction (each event's
	 * own is a savepoint within it), which hem_children_poll() commits
	 * together with the RUNNING marks of the hooks they start: one commit,
	 * not one per event nor one more before the hooks start. */
	if (!batch)
		hb_store_rollback(h->store);
	for (int i = 0; i < BUS_BATCH; i++) {
		hb_frames fr = { 0 };
		hb_message *m = NULL;
		hb_error err = { 0 };
		int rc = hb_frames_recv(h->sub, ZMQ_DONTWAIT, 2, &fr, &err);

		if (rc == 0) {
			hb_frames_free(&fr);
			break;
		}
		h->last_bus_ms = hem_now_ms();
		if (rc < 0 || fr.n != 2) {
			hb_log(HB_LOG_WARN, "bus message dropped: %s", rc < 0 ? err.msg : "not two frames");
			hb_metric_add(HM_EVENTS_DROPPED, 1);
		} else if (hb_message_decode(h->codec, hb_frame_data(&fr, 1), hb_frame_size(&fr, 1), h->max_message,
						  h->msg_schema, &m, &err) < 0) {
			hb_log(HB_LOG_WARN, "bus message '%.*s' dropped: %s", (int)(hb_frame_size(&fr, 0) > 200 ? 200 : hb_frame_size(&fr, 0)),
			       hb_frame_data(&fr, 0), err.msg);
			hb_metric_add(HM_EVENTS_DROPPED, 1);
		} else if (m->seq == 0) {
			hb_log(HB_LOG_WARN, "bus message without SEQ dropped");
			hb_metric_add(HM_EVENTS_DROPPED, 1);
		} else if ((int64_t)m->seq > h->last_seq + 1) {
			hb_log(HB_LOG_DEBUG, "gap before seq %" PRIu64 " (last %" PRId64 "): replaying", m->seq, h->last_seq);
			if (hem_replay(h, &err) < 0)
				hb_log(HB_LOG_ERROR, "%s (the next replay retries)", err.msg);
			else if (event_take(h, m, &err) < 0)
				hb_log(HB_LOG_ERROR, "seq %" PRIu64 ": %s", m->seq, err.msg);
		} else if (event_take(h, m, &err) < 0) {
			hb_log(HB_LOG_ERROR, "seq %" PRIu64 ": %s", m->seq, err.msg);
		}
		hb_message_free(m);
		hb_frames_free(&fr);
	}
	h->turn_tx = batch;
}

void hem_turn_rollback(struct hem *h)
{
	hb_error err = { 0 };
	int64_t seq;

	if (!h->turn_tx)
		return;
	h->turn_tx = false;
	/* What hem believed taken from the bus is taken again from the
	 * publisher by the next replay. */
	if (hb_store_last_seq(h->store, &seq, &err) == 0)
		h->last_seq = seq;
}

static int check_int(const hb_config *cfg, const char *key, int64_t min, int64_t max, int64_t *out, hb_error *err)
{
	return hb_config_int(cfg, key, min, max, out, err);
}

int hb_hem_check(const hb_config *cfg, hb_error *err)
{
	int64_t v;
	int rc = 0;

	if (rc == 0)
		rc = check_int(cfg, "CONCURRENCY", 1, 4096, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "BLOCKING_CONCURRENCY", 0, 4096, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "DEFAULT_TIMEOUT", 0, INT32_MAX, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "LOG_RETENTION", 0, INT32_MAX, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "OUTPUT_LIMIT", 0, 64 << 20, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "MAX_MESSAGE_SIZE", 1024, 256 << 20, &v, err);
	if (rc == 0)
		rc = check_int(cfg, "DEBUG_LEVEL", 0, 3, &v, err);
	if (rc == 0) {
		char **argv = NULL;
		size_t n = 0;
		rc = remote_shell_split(cfg, &argv, &n, err);
		hb_args_free(argv);
	}
	if (rc == 0) {
		hb_curve_client *curve = NULL;
		rc = hb_curve_client_from_config(cfg, &curve, err);
		free(curve);
	}
	if (rc == 0) {
		hb_resources *res = NULL;
		rc = hb_resources_load(hb_config_str(cfg, "RESOURCES"), &res, err);
		hb_resources_free(res);
		if (rc < 0)
			hb_error_prefix(err, "RESOURCES");
	}
	return rc;
}

/* Refuses a world-writable database, or directory for the database or the
 * hooks (a sticky directory is no better for a daemon's own files, but is
 * what /tmp is: allowed). */
static int check_dir_mode(const char *what, const char *path, hb_error *err)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return hb_error_set(err, -HB_EPERM, "%s %s is writable by everyone; refusing to use it", what, path);
	return 0;
}

static int hem_open(struct hem *h, const hb_config *cfg, hb_error *err)
{
	int64_t v;
	int linger = 0, rc;
	hb_autofree char *dbdir = strdup(hb_config_str(cfg, "DATABASE"));
	char *slash;

	h->cfg = cfg;
	h->uid = geteuid();
	h->gid = getegid();
	rc = hb_hem_check(cfg, err);
	if (rc < 0)
		return rc;
	hb_config_int(cfg, "CONCURRENCY", 1, 4096, &h->concurrency, err);
	hb_config_int(cfg, "BLOCKING_CONCURRENCY", 0, 4096, &h->blocking_concurrency, err);
	hb_config_int(cfg, "DEFAULT_TIMEOUT", 0, INT32_MAX, &h->default_timeout, err);
	hb_config_int(cfg, "LOG_RETENTION", 0, INT32_MAX, &h->retention, err);
	hb_config_int(cfg, "OUTPUT_LIMIT", 0, 64 << 20, &h->output_limit, err);
	hb_config_int(cfg, "MAX_MESSAGE_SIZE", 1024, 256 << 20, &v, err);
	h->max_message = (size_t)v;
	h->pub_command = hb_config_str(cfg, "PUBLISHER_COMMAND_ENDPOINT");
	h->base_path = strdup(hb_config_str(cfg, "HOOK_BASE_PATH"));
	h->remote_base_path = strdup(hb_config_str(cfg, "REMOTE_HOOK_BASE_PATH"));
	h->next_due_ms = -1;
	if (h->base_path == NULL || h->remote_base_path == NULL || dbdir == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = remote_shell_split(cfg, &h->remote_shell, &h->remote_shell_n, err);
	if (rc < 0)
		return rc;
	slash = strrchr(dbdir, '/');
	if (slash != NULL && slash != dbdir) {
		*slash = '\0';
		if ((rc = check_dir_mode("database directory", dbdir, err)) < 0)
			return rc;
	}
	if ((rc = check_dir_mode("hook directory", h->base_path, err)) < 0 ||
	    (rc = check_dir_mode("database", hb_config_str(cfg, "DATABASE"), err)) < 0)
		return rc;
	h->nrun = (size_t)(h->concurrency + h->blocking_concurrency);
	h->run = calloc(h->nrun, sizeof(*h->run));
	if (h->run == NULL || hem_verdicts_new(h, err) < 0)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (size_t i = 0; i < h->nrun; i++)
		h->run[i].hook_id = -1;
	rc = hb_resources_load(hb_config_str(cfg, "RESOURCES"), &h->res, err);
	if (rc == 0)
		rc = hb_schema_load("hook_message.xsd", &h->msg_schema, err);
	if (rc == 0)
		rc = hb_xml_codec_new(&h->codec, err);
	if (rc == 0)
		rc = hb_curve_client_from_config(cfg, &h->curve, err);
	if (rc == 0)
		rc = hb_store_open(hb_config_str(cfg, "DATABASE"), &h->store, err);
	if (rc == 0)
		rc = hb_store_last_seq(h->store, &h->last_seq, err);
	if (rc == 0) {
		rc = hb_store_exec_interrupt_running(h->store, hem_now_ms(), err);
		if (rc > 0)
			hb_log(HB_LOG_WARN, "%d execution(s) were running when hem stopped: marked INTERRUPTED", rc);
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0)
		rc = hem_hooks_load(h, err);
	if (rc < 0)
		return rc;
	h->ctx = zmq_ctx_new();
	h->sub = h->ctx ? zmq_socket(h->ctx, ZMQ_SUB) : NULL;
	h->ctl = h->ctx ? zmq_socket(h->ctx, ZMQ_ROUTER) : NULL;
	if (h->sub == NULL || h->ctl == NULL)
		return hb_error_set(err, -HB_EIO, "cannot create sockets: %s", zmq_strerror(errno));
	zmq_setsockopt(h->sub, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(h->ctl, ZMQ_LINGER, &linger, sizeof(linger));
	v = (int64_t)h->max_message / 3 * 4 * 2 + 65536;
	zmq_setsockopt(h->sub, ZMQ_MAXMSGSIZE, &v, sizeof(v));
	v = 32 << 20;
	zmq_setsockopt(h->ctl, ZMQ_MAXMSGSIZE, &v, sizeof(v));
	rc = hb_zmq_bind(h->ctl, hb_config_str(cfg, "CONTROL_ENDPOINT"), err);
	if (rc < 0)
		return hb_error_prefix(err, "CONTROL_ENDPOINT");
	if (hb_config_str(cfg, "LOCAL_ENDPOINT")[0] != '\0' &&
	    hb_local_open(hb_config_str(cfg, "LOCAL_ENDPOINT"), HEM_LOCAL_REQUEST_MAX, &h->local, err) < 0)
		return hb_error_prefix(err, "LOCAL_ENDPOINT");
	if ((rc = hb_curve_client_apply(h->curve, h->sub, hb_config_str(cfg, "SUBSCRIBER_ENDPOINT"), err)) < 0)
		return rc;
	if (zmq_connect(h->sub, hb_config_str(cfg, "SUBSCRIBER_ENDPOINT")) < 0)
		return hb_error_set(err, -HB_EINVAL, "SUBSCRIBER_ENDPOINT %s: %s", hb_config_str(cfg, "SUBSCRIBER_ENDPOINT"),
				    zmq_strerror(errno));
	return hem_subscriptions_sync(h, err);
}

static void hem_close(struct hem *h)
{
	for (size_t i = 0; i < h->nhooks; i++)
		hb_hookdef_free(h->hooks[i].def);
	free(h->hooks);
	hem_hook_index_free(&h->index);
	for (size_t i = 0; i < h->nsubs; i++)
		free(h->subs[i]);
	free(h->subs);
	free(h->run);
	hem_verdicts_free(h);
	hb_local_close(h->local);
	free(h->base_path);
	free(h->remote_base_path);
	hb_args_free(h->remote_shell);
	free(h->curve);
	if (h->sub)
		zmq_close(h->sub);
	if (h->ctl)
		zmq_close(h->ctl);
	if (h->ctx)
		zmq_ctx_term(h->ctx);
	hb_store_close(h->store);
	hb_schema_free(h->msg_schema);
	hb_xml_codec_free(h->codec);
	hb_resources_free(h->res);
}

int hb_hem_run(const hb_config *cfg, hb_error *err)
{
	struct hem h = { 0 };
	zmq_pollitem_t *items = NULL;
	int64_t stop_deadline = 0, idle_wait = IDLE_CHECK_MS;
	int rc;

	rc = hem_open(&h, cfg, err);
	if (rc == 0 && (items = calloc(HEM_POLL_ITEMS(h.nrun), sizeof(*items))) == NULL)
		rc = hb_error_set(err, -HB_ENOMEM, "out of memory");
	if (rc < 0)
		goto out;
	hb_log(HB_LOG_INFO, "hem serving: %zu hook(s), last seq %" PRId64 ", concurrency %" PRId64 ", control %s",
	       h.nhooks, h.last_seq, h.concurrency, hb_config_str(cfg, "CONTROL_ENDPOINT"));
	if ((rc = hem_metrics_start(cfg, err)) < 0)
		goto out;
	/* Subscribed first, then replayed: nothing falls between the two. */
	if (hem_replay(&h, err) < 0)
		hb_log(HB_LOG_WARN, "start-up replay: %s (will retry)", err->msg);
	h.last_bus_ms = hem_now_ms();
	h.dispatch_needed = true;
	hb_notify_ready("serving");
	for (;;) {
		size_t n = 0, nchild, nlocal = 0;
		int64_t timer, now;
		long timeout;

		if (hb_sig_term && !h.stopping) {
			hb_log(HB_LOG_INFO, "SIGTERM: taking no more events; %zu hook(s) running", hem_running(&h));
			h.stopping = true;
			hb_notify_stopping();
			stop_deadline = hem_now_ms() + SHUTDOWN_GRACE_MS;
		}
		if (hb_sig_hup) {
			hb_sig_hup = 0;
			hem_reload(&h, &items);
		}
		if (h.stopping && (hem_running(&h) == 0 || hem_now_ms() >= stop_deadline))
			break;
		if (h.dispatch_needed)
			hem_dispatch(&h);
		if (!h.stopping) {
			items[n++] = (zmq_pollitem_t){ .socket = h.sub, .events = ZMQ_POLLIN };
			items[n++] = (zmq_pollitem_t){ .socket = h.ctl, .events = ZMQ_POLLIN };
		}
		nchild = hem_children_items(&h, items + n);
		n += nchild;
		if (h.local != NULL && !h.stopping) {
			nlocal = hb_local_pollitems(h.local, items + n);
			n += nlocal;
		}
		timer = hem_children_next_timer(&h);
		timeout = 1000;
		if (timer >= 0 && timer < timeout)
			timeout = (long)timer;
		timer = hem_verdicts_next_timer(&h);
		if (timer >= 0 && timer < timeout)
			timeout = (long)timer;
		if (h.local != NULL && !h.stopping)
			timeout = hb_local_wait_ms(h.local, (int)timeout);
		rc = zmq_poll(items, (int)n, timeout);
		if (rc < 0 && errno != EINTR) {
			rc = hb_error_set(err, -HB_EIO, "poll failed: %s", zmq_strerror(errno));
			goto out;
		}
		/* Control requests first: their answers must follow their own
		 * commits, never wait inside the turn's transaction. */
		if (!h.stopping && rc > 0) {
			if (items[1].revents & ZMQ_POLLIN)
				hem_control_handle(&h);
			if (items[0].revents & ZMQ_POLLIN)
				bus_read(&h);
		}
		if (nlocal > 0) {
			hb_local_handle(h.local, items + n - nlocal, nlocal);
			hem_local_handle(&h);
		}
		hem_children_poll(&h, items, n);
		hem_children_timers(&h);
		hem_metrics_refresh(&h);
		hem_verdicts_poll(&h);
		now = hem_now_ms();
		if (!h.stopping && now - h.last_bus_ms >= idle_wait) {
			hb_error e = { 0 };
			h.last_bus_ms = now;
			if (hem_replay(&h, &e) < 0) {
				hb_log(idle_wait == IDLE_CHECK_MS ? HB_LOG_WARN : HB_LOG_DEBUG, "replay: %s", e.msg);
				idle_wait = idle_wait * 2 > IDLE_CHECK_MAX_MS ? IDLE_CHECK_MAX_MS : idle_wait * 2;
			} else {
				idle_wait = IDLE_CHECK_MS;
			}
		}
	}
	if (hem_running(&h) > 0) {
		hb_log(HB_LOG_WARN, "%zu hook(s) still running after the grace period: killed", hem_running(&h));
		hem_children_interrupt(&h);
	}
	rc = 0;
	hb_log(HB_LOG_INFO, "hem stopped at seq %" PRId64, h.last_seq);
out:
	hem_metrics_stop();
	free(items);
	hem_close(&h);
	return rc;
}
