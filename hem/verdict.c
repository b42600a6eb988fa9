/* verdict.c -- hem's VERDICT requests: the blocking executions of an event decide whether its action goes on. */
#include "hem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"

#define WAITERS_MAX 4096     /* VERDICT requests kept waiting at once */
#define LOCAL_WAITERS_MAX 256 /* ... of them from the local socket, each holding a descriptor */
#define RECENT_MAX 1024      /* votes of ended blocking executions kept in memory */
#define REASON_MAX 4096      /* bytes of a refusing hook's stderr given as the reason */
#define ID_MAX 256           /* a ROUTER identity is at most 255 bytes */
#define BUS_GRACE_MS 5       /* a VERDICT ahead of its event: the bus usually brings the event within this */
#define REPLAY_EVERY_MS 20   /* then REPLAY, at most this often while requests wait for events */
#define REPLAY_BACKOFF_MS 10000 /* ... or this often after the publisher did not answer (a REPLAY
				 * request waits for it, holding up the loop) */

/* A VERDICT request waiting for its answer: from the control socket's
 * client id, or from the local socket's connection fd. */
struct waiter {
	int fd;                 /* -1: a control socket client */
	unsigned char id[ID_MAX];
	size_t idlen;
	bool delimiter;
	int64_t seq;
	int64_t since_ms;
	int64_t deadline_ms;
};

/* The vote of one ended blocking execution. */
struct vote {
	int64_t seq;            /* -1: an empty slot */
	int64_t hook_id;
	int64_t exec_id;
	bool ok;
	char *reason;           /* owned; refusals only */
};

struct hem_verdicts {
	struct waiter *w;
	size_t nw;
	struct vote recent[RECENT_MAX];  /* a ring, newest at next - 1 */
	size_t next;
	int64_t seen_seq;       /* hem's last_seq at the last evaluation */
	bool dirty;             /* a vote or an event came since the last evaluation */
	int64_t next_replay_ms;
};

/* One blocking hook's say on an event: its newest execution for it. */
struct ballot {
	int64_t hook_id;
	int64_t exec_id;
	bool ok;
	bool pending;
	char *reason;           /* owned */
};

struct count {
	struct ballot *b;
	size_t n;
};

int hem_verdicts_new(struct hem *h, hb_error *err)
{
	struct hem_verdicts *v = calloc(1, sizeof(*v));

	if (v == NULL || (v->w = calloc(WAITERS_MAX, sizeof(*v->w))) == NULL) {
		free(v);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < RECENT_MAX; i++)
		v->recent[i].seq = -1;
	h->verdicts = v;
	return 0;
}

void hem_verdicts_free(struct hem *h)
{
	struct hem_verdicts *v = h->verdicts;

	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nw; i++)
		if (v->w[i].fd >= 0)
			hem_local_reply(v->w[i].fd, false, "hem stopped before the verdict");
	for (size_t i = 0; i < RECENT_MAX; i++)
		free(v->recent[i].reason);
	free(v->w);
	free(v);
	h->verdicts = NULL;
}

/* A copy of at most REASON_MAX bytes of reason (len bytes), NUL-terminated;
 * NULL when out of memory. */
static char *reason_dup(const char *reason, size_t len)
{
	if (reason == NULL)
		len = 0;
	if (len > REASON_MAX)
		len = REASON_MAX;
	return strndup(len ? reason : "", len);
}

void hem_verdict_note(struct hem *h, int64_t hook_id, int64_t exec_id, int64_t seq, bool ok, const char *reason,
		      size_t len)
{
	struct hem_verdicts *v = h->verdicts;
	struct vote *slot;

	if (v == NULL || seq < 0)
		return;
	slot = &v->recent[v->next];
	v->next = (v->next + 1) % RECENT_MAX;
	free(slot->reason);
	*slot = (struct vote){ seq, hook_id, exec_id, ok, ok ? NULL : reason_dup(reason, len) };
	v->dirty = true;
}

/* Counts one execution of hook_id for the event: the newest one of each
 * hook is its ballot. */
static int ballot_add(struct count *c, int64_t hook_id, int64_t exec_id, bool ok, bool pending, const char *reason,
		      size_t len, hb_error *err)
{
	struct ballot *b = NULL;

	for (size_t i = 0; i < c->n && b == NULL; i++)
		if (c->b[i].hook_id == hook_id)
			b = &c->b[i];
	if (b != NULL && b->exec_id >= exec_id)
		return 0;
	if (b == NULL) {
		b = realloc(c->b, (c->n + 1) * sizeof(*b));
		if (b == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		c->b = b;
		b = &c->b[c->n++];
		b->reason = NULL;
	}
	free(b->reason);
	*b = (struct ballot){ hook_id, exec_id, ok, pending, NULL };
	if (!ok && !pending && (b->reason = reason_dup(reason, len)) == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	return 0;
}

static int ballot_of_row(void *ctx, const hb_exec_row *e, hb_error *err)
{
	bool pending = strcmp(e->state, HB_EXEC_PENDING) == 0 || strcmp(e->state, HB_EXEC_RUNNING) == 0;

	return ballot_add(ctx, e->hook_id, e->exec_id, strcmp(e->state, HB_EXEC_SUCCESS) == 0, pending, e->err,
			  e->err_len, err);
}

static void count_clear(struct count *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->b[i].reason);
	free(c->b);
}

/*
 * Decides the verdict of the event seq, which hem has queued: *answer (a
 * new string) is the VERDICT answer, or stays NULL while a blocking
 * execution of the event is queued or running.  The ballots are the newest
 * record of each blocking hook for the event (an automatic retry replaces
 * the attempt it retries), completed by the votes kept in memory for the
 * records LOG_RETENTION has already pruned.  The first refusing hook (by id)
 * gives the reason.
 */
static int decide(struct hem *h, int64_t seq, char **answer, hb_error *err)
{
	struct hem_verdicts *v = h->verdicts;
	struct count c = { 0 };
	const struct ballot *refusal = NULL;
	int rc;

	*answer = NULL;
	rc = hb_store_exec_blocking_of(h->store, seq, ballot_of_row, &c, err);
	for (size_t i = 0; rc == 0 && i < RECENT_MAX; i++) {
		const struct vote *o = &v->recent[i];
		if (o->seq == seq)
			rc = ballot_add(&c, o->hook_id, o->exec_id, o->ok, false, o->reason,
					o->reason ? strlen(o->reason) : 0, err);
	}
	if (rc < 0) {
		count_clear(&c);
		return rc;
	}
	for (size_t i = 0; i < c.n; i++) {
		if (c.b[i].pending) {
			count_clear(&c);
			return 0;
		}
		if (!c.b[i].ok && (refusal == NULL || c.b[i].hook_id < refusal->hook_id))
			refusal = &c.b[i];
	}
	if (refusal != NULL) {
		const struct hem_hook *hook = hem_hook_find(h, refusal->hook_id);
		rc = asprintf(answer, "refuse %" PRId64 " %" PRId64 " %s\n%s", refusal->hook_id, refusal->exec_id,
			      hook ? hook->def->name : "", refusal->reason[0] ? refusal->reason :
			      "(the hook failed without a message on stderr)");
	} else if (c.n > 0) {
		rc = asprintf(answer, "allow\n%zu blocking hook(s) allowed seq %" PRId64, c.n, seq);
	} else {
		rc = asprintf(answer, "allow\nno blocking execution is recorded for seq %" PRId64
			      " (no blocking hook matched it, or its records were pruned)", seq);
	}
	count_clear(&c);
	if (rc < 0) {
		*answer = NULL;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return 0;
}

/* Sends w its answer, on the socket it came from. */
static void waiter_reply(struct hem *h, const struct waiter *w, bool ok, const char *payload)
{
	if (w->fd >= 0)
		hem_local_reply(w->fd, ok, payload);
	else
		hem_control_reply(h, w->id, w->idlen, w->delimiter, ok, payload);
}

/* Answers w when its verdict is known (or, when expired, with "timeout");
 * returns true when it was answered. */
static bool try_answer(struct hem *h, const struct waiter *w, bool expired)
{
	hb_autofree char *answer = NULL;
	hb_error err = { 0 };

	if (w->seq <= h->last_seq && decide(h, w->seq, &answer, &err) < 0) {
		hb_log(HB_LOG_ERROR, "VERDICT %" PRId64 ": %s", w->seq, err.msg);
		waiter_reply(h, w, false, err.msg);
		return true;
	}
	if (answer == NULL && !expired)
		return false;
	if (answer == NULL && asprintf(&answer, "timeout\n%s", w->seq > h->last_seq ?
				       "hem has not received the event yet" :
				       "a blocking execution of the event is still queued or running") < 0) {
		answer = NULL;
		waiter_reply(h, w, false, "out of memory");
		return true;
	}
	hb_log(HB_LOG_DEBUG, "VERDICT %" PRId64 ": %.*s", w->seq, (int)strcspn(answer, "\n"), answer);
	waiter_reply(h, w, true, answer);
	return true;
}

/* Answers w at once when it can, else keeps it waiting until timeout_ms
 * from now. */
static int waiter_add(struct hem *h, struct waiter *w, int64_t timeout_ms, hb_error *err)
{
	struct hem_verdicts *v = h->verdicts;

	if (v->nw == WAITERS_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "too many VERDICT requests are waiting (%d)", WAITERS_MAX);
	w->since_ms = hem_now_ms();
	w->deadline_ms = w->since_ms + timeout_ms;
	if (try_answer(h, w, timeout_ms == 0))
		return 0;
	hb_log(HB_LOG_DEBUG, "VERDICT %" PRId64 ": waiting (last seq %" PRId64 ") for at most %" PRId64 " ms", w->seq,
	       h->last_seq, timeout_ms);
	v->w[v->nw++] = *w;
	return 0;
}

int hem_verdict_request(struct hem *h, const void *id, size_t idlen, bool delimiter, int64_t seq,
			int64_t timeout_ms, hb_error *err)
{
	struct waiter w = { .fd = -1, .idlen = idlen, .delimiter = delimiter, .seq = seq };

	if (idlen == 0 || idlen >= ID_MAX)
		return hb_error_set(err, -HB_EINVAL, "VERDICT from a client without a usable identity");
	memcpy(w.id, id, idlen);
	return waiter_add(h, &w, timeout_ms, err);
}

int hem_verdict_request_local(struct hem *h, int fd, int64_t seq, int64_t timeout_ms, hb_error *err)
{
	struct hem_verdicts *v = h->verdicts;
	struct waiter w = { .fd = fd, .seq = seq };
	size_t nlocal = 0;

	for (size_t i = 0; i < v->nw; i++)
		nlocal += v->w[i].fd >= 0;
	if (nlocal == LOCAL_WAITERS_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "too many VERDICT requests of the local socket are waiting (%d)",
				    LOCAL_WAITERS_MAX);
	return waiter_add(h, &w, timeout_ms, err);
}

void hem_verdicts_poll(struct hem *h)
{
	struct hem_verdicts *v = h->verdicts;

	for (int pass = 0; pass < 2 && v->nw > 0; pass++) {
		int64_t now = hem_now_ms(), before = h->last_seq;
		bool need_replay = false;
		size_t kept = 0;
		hb_error err = { 0 };

		if (h->last_seq != v->seen_seq) {
			v->seen_seq = h->last_seq;
			v->dirty = true;
		}
		for (size_t i = 0; i < v->nw; i++) {
			struct waiter *w = &v->w[i];
			bool expired = now >= w->deadline_ms;

			if ((v->dirty || expired) && try_answer(h, w, expired))
				continue;
			if (w->seq > h->last_seq && now - w->since_ms >= BUS_GRACE_MS)
				need_replay = true;
			if (kept != i)
				v->w[kept] = *w;
			kept++;
		}
		v->nw = kept;
		v->dirty = false;
		if (!need_replay || now < v->next_replay_ms || h->stopping)
			return;
		/* A request waits for an event the bus has not brought: one that
		 * no hook subscribes to, or one the SUB socket dropped. */
		if (hem_replay(h, &err) < 0) {
			hb_log(HB_LOG_DEBUG, "replay for VERDICT: %s", err.msg);
			v->next_replay_ms = now + REPLAY_BACKOFF_MS;
			return;
		}
		v->next_replay_ms = now + REPLAY_EVERY_MS;
		if (h->last_seq == before)
			return;
	}
}

int64_t hem_verdicts_next_timer(struct hem *h)
{
	struct hem_verdicts *v = h->verdicts;
	int64_t now = hem_now_ms(), next = -1;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < v->nw; i++) {
		const struct waiter *w = &v->w[i];
		int64_t t = w->deadline_ms;

		if (w->seq > h->last_seq && !h->stopping) {
			int64_t r = w->since_ms + BUS_GRACE_MS;
			if (r < v->next_replay_ms)
				r = v->next_replay_ms;
			if (r < t)
				t = r;
		}
		t = t > now ? t - now : 0;
		if (next < 0 || t < next)
			next = t;
	}
	return next;
}
