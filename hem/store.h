/* store.h -- hem.db: hooks, execution records (the durable queue) and the last sequence seen. */
#ifndef HB_STORE_H
#define HB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct hb_store hb_store;

/* A hook as stored.  Strings are owned; freed with hb_hook_row_clear(). */
typedef struct hb_hook_row {
	int64_t id;
	char *name;
	char *type;        /* "api" or "state" */
	char *prefix;      /* subscription prefix */
	char *tmpl;        /* template text without NAME and TYPE */
	int lock_level;    /* 0 unlocked, 1 use, 2 manage, 3 admin, 4 all */
	int64_t lock_time;
	int64_t created;
	int64_t updated;
	int64_t next_exec;
} hb_hook_row;

/* Execution states. */
#define HB_EXEC_PENDING "PENDING"
#define HB_EXEC_RUNNING "RUNNING"
#define HB_EXEC_SUCCESS "SUCCESS"
#define HB_EXEC_ERROR "ERROR"
#define HB_EXEC_INTERRUPTED "INTERRUPTED"
#define HB_EXEC_SKIPPED "SKIPPED"

/* An execution record.  Strings and buffers are owned (NULL when absent);
 * freed with hb_exec_row_clear(). */
typedef struct hb_exec_row {
	int64_t hook_id;
	int64_t exec_id;
	char *state;
	int64_t seq;            /* -1 when none */
	char *event_key;
	int64_t retry_of;       /* -1 when not a retry */
	char *command;
	char *arguments;
	char *argv;             /* elements, each NUL-terminated */
	size_t argv_len;
	char *stdin_data;
	size_t stdin_len;
	char *remote_host;
	int64_t queued_ms;
	int64_t start_ms;       /* -1 when not started */
	int64_t end_ms;         /* -1 when not ended */
	int code;               /* -1 when none */
	int signal;             /* 0 when none */
	bool timed_out;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
	bool out_truncated;
	bool err_truncated;
	int attempt;            /* 1 for a first run, n for the (n-1)th automatic retry */
	int64_t run_after_ms;   /* not started before this; -1 when at once */
	bool blocking;          /* an execution of a BLOCKING hook */
	char *verdict;          /* a blocking execution's vote once it ended: "allow" or "refuse"; else NULL */
} hb_exec_row;

/* A new execution to queue (strings borrowed). */
typedef struct hb_exec_new {
	int64_t hook_id;
	int64_t seq;            /* -1 when none */
	const char *event_key;
	int64_t retry_of;       /* -1 when not a retry */
	const char *command;
	const char *arguments;
	const char *argv;       /* elements, each NUL-terminated */
	size_t argv_len;
	const char *stdin_data; /* NULL when none */
	size_t stdin_len;
	const char *remote_host;
	const char *refusal;    /* non-NULL: recorded at once as an ERROR with this on stderr */
	const char *skipped;    /* non-NULL: recorded at once as SKIPPED with this on stderr */
	int attempt;            /* 0 or 1: a first run; n: the (n-1)th automatic retry */
	int64_t run_after_ms;   /* 0: due at once; else not started before this */
	bool blocking;          /* an execution of a BLOCKING hook: dispatched first, and it votes */
	bool new_seq;           /* seq is newer than every event queued before: no record of it can
	                         * exist yet, so the duplicate check is skipped */
} hb_exec_new;

/* The end of an execution (buffers borrowed). */
typedef struct hb_exec_end {
	const char *state;      /* SUCCESS or ERROR */
	int code;
	int signal;
	bool timed_out;
	const char *out;
	size_t out_len;
	bool out_truncated;
	const char *err;
	size_t err_len;
	bool err_truncated;
	int64_t end_ms;
	bool never_started;     /* refused before its start: the record's start time becomes end_ms */
} hb_exec_end;

/* Filters of a log query; a field at -1 (or false) does not filter. */
typedef struct hb_log_filter {
	int64_t hook_id;
	int64_t since;          /* epoch seconds, inclusive */
	int64_t until;          /* epoch seconds, inclusive */
	bool success_only;
	bool error_only;
	int64_t limit;          /* at most this many, newest first; -1 = no limit */
} hb_log_filter;

/* Opens (creating or migrating) hem.db.  Closed with hb_store_close(). */
int hb_store_open(const char *path, hb_store **out, hb_error *err);
void hb_store_close(hb_store *s);

/* Transactions around several calls; they nest.  The outermost
 * hb_store_begin() opens a transaction, an inner one a savepoint.
 * hb_store_commit() ends the innermost level, keeping its changes (they are
 * committed when the outermost level ends).  After any failure of the calls
 * inside a level, of hb_store_begin() or of hb_store_commit() itself, the
 * caller ends the level with hb_store_rollback(), which undoes that level's
 * changes alone. */
int hb_store_begin(hb_store *s, hb_error *err);
int hb_store_commit(hb_store *s, hb_error *err);
void hb_store_rollback(hb_store *s);

void hb_hook_row_clear(hb_hook_row *h);
void hb_exec_row_clear(hb_exec_row *e);

/* Hooks.  Insert assigns the next id (from 0, never reused); a taken name is
 * -HB_EINVAL "name ... is already used by hook N".  Get of a missing hook is
 * -HB_ENOENT. */
int hb_store_hook_insert(hb_store *s, const char *name, const char *type, const char *prefix,
			 const char *tmpl, int64_t *id, hb_error *err);
int hb_store_hook_update(hb_store *s, int64_t id, const char *name, const char *prefix,
			 const char *tmpl, hb_error *err);
int hb_store_hook_delete(hb_store *s, int64_t id, hb_error *err);
int hb_store_hook_lock(hb_store *s, int64_t id, int level, hb_error *err);
int hb_store_hook_get(hb_store *s, int64_t id, hb_hook_row *out, hb_error *err);

/* Calls fn for every hook, by id; fn returns 0 to go on or a negative code. */
typedef int (*hb_hook_fn)(void *ctx, const hb_hook_row *h, hb_error *err);
int hb_store_hooks_each(hb_store *s, hb_hook_fn fn, void *ctx, hb_error *err);

/* Queues an execution (state PENDING, or ERROR at once when e->refusal is
 * set, or SKIPPED at once when e->skipped is) with the hook's next EXECUTION_ID,
 * stored in *exec_id.  For an event (seq >= 0, not a retry) that already has
 * a record of this hook, nothing is queued and *exec_id is -1.  Within the
 * caller's transaction (hb_store_begin()), which a failure leaves for the
 * caller to roll back: each statement of it is a write. */
int hb_store_exec_queue(hb_store *s, const hb_exec_new *e, int64_t *exec_id, hb_error *err);

/* Returns the waiting retries due at now_ms to the queue (a retry waits
 * parked until its RUN_AFTER time), then reads up to max PENDING records not
 * parked, blocking ones first, each part in queue order (only blocking ones
 * when blocking_only), offering each to take (which may be NULL: every record is taken) before
 * reading it: take returns false for a record the caller cannot start now
 * (it runs it already, or its hook is at its CONCURRENCY, or no slot is
 * left for its kind), which is passed over without holding up the records
 * behind it.  Returns the number read into rows (each cleared by the
 * caller). */
typedef bool (*hb_take_fn)(void *ctx, int64_t hook_id, int64_t exec_id, bool blocking);
int hb_store_exec_next(hb_store *s, int64_t now_ms, bool blocking_only, hb_exec_row *rows, size_t max,
		       hb_take_fn take, void *ctx, hb_error *err);

/* Parks a PENDING record that its hook's CONCURRENCY holds back (as a
 * waiting retry is parked until its time): it stays
 * PENDING to every reader, but hb_store_exec_next() no longer walks over it
 * until it is returned to the queue, in its place (its queue order is
 * kept): by hb_store_exec_unpark(), by the end of one of the hook's
 * executions, or all at once at the next hb_store_exec_next() after the
 * store opened, after a rollback and after hb_store_exec_requeue_parked(). */
int hb_store_exec_park(hb_store *s, int64_t hook_id, int64_t exec_id, hb_error *err);

/* Returns the oldest parked record of hook_id, if any, to the queue. */
int hb_store_exec_unpark(hb_store *s, int64_t hook_id, hb_error *err);

/* Has the next hb_store_exec_next() return every parked record to the queue
 * first: a hook's CONCURRENCY changed. */
void hb_store_exec_requeue_parked(hb_store *s);

/* The earliest RUN_AFTER time after now_ms of a waiting retry in *due_ms,
 * -1 when none waits. */
int hb_store_exec_next_due(hb_store *s, int64_t now_ms, int64_t *due_ms, hb_error *err);

/* The number of PENDING or RUNNING records of hook_id. */
int hb_store_exec_active(hb_store *s, int64_t hook_id, int64_t *count, hb_error *err);

/* Marks a record RUNNING with its start time. */
int hb_store_exec_start(hb_store *s, int64_t hook_id, int64_t exec_id, int64_t start_ms, hb_error *err);

/* Completes a record, returns the hook's oldest record parked by its
 * CONCURRENCY to the queue when limited says it has one (the end frees one of
 * its slots; a hook without parks nothing, and records parked under a limit
 * since removed go back with hb_store_exec_requeue_parked()), then deletes
 * the hook's finished records older than its newest `retention` executions
 * (one indexed range, whatever the size of the log); once nothing of the
 * hook is queued or running, exactly the newest `retention` records remain.
 * Within the caller's transaction, as hb_store_exec_queue(). */
int hb_store_exec_finish(hb_store *s, int64_t hook_id, int64_t exec_id, const hb_exec_end *end,
			 int64_t retention, bool limited, hb_error *err);

/* Reads one record; -HB_ENOENT when missing. */
int hb_store_exec_get(hb_store *s, int64_t hook_id, int64_t exec_id, hb_exec_row *out, hb_error *err);

/* Calls fn for the records matching f, newest first (or, with hook_id set,
 * by execution id). */
typedef int (*hb_exec_fn)(void *ctx, const hb_exec_row *e, hb_error *err);
int hb_store_exec_query(hb_store *s, const hb_log_filter *f, hb_exec_fn fn, void *ctx, hb_error *err);

/* Calls fn for every blocking record of the event seq, by hook and
 * execution id (an indexed lookup). */
int hb_store_exec_blocking_of(hb_store *s, int64_t seq, hb_exec_fn fn, void *ctx, hb_error *err);

/* At start: marks every RUNNING record INTERRUPTED (a blocking one votes
 * refuse); returns how many. */
int hb_store_exec_interrupt_running(hb_store *s, int64_t now_ms, hb_error *err);

/* The number of PENDING records. */
int hb_store_exec_pending(hb_store *s, int64_t *count, hb_error *err);

/* The last bus sequence number whose hooks are all queued.  Set within a
 * transaction, it is written once, by the outermost commit (not once per
 * event of a turn), and a rollback of any level takes it back to what it was
 * when that level began; outside one it is written at once. */
int hb_store_last_seq(hb_store *s, int64_t *seq, hb_error *err);
int hb_store_set_last_seq(hb_store *s, int64_t seq, hb_error *err);

#endif
