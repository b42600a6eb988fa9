/* store.c -- hem.db on SQLite: prepared statements for hooks, execution records and progress. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "checkpointer.h"
#include "db.h"

/* Prepared statements, kept for the connection's life and keyed by the
 * address of their SQL text (each a literal of this file). */
#define STMT_CACHE_MAX 48

struct hb_store {
	sqlite3 *db;
	hb_checkpointer *ckpt;
	int depth;           /* nesting of hb_store_begin */
	uint64_t failed;     /* bit n: the begin of level n + 1 failed; its rollback undoes nothing */
	uint64_t parks;      /* bit n: level n + 1 parked or returned records (park_change()) */
	bool requeue_parked; /* hb_store_exec_next() returns every parked record to the queue first */
	int64_t release_ms;  /* no waiting retry is due before; 0: not known */
	/* last_seq set within the open transaction, written once by its
	 * COMMIT rather than by every event (-1: none), and its value when
	 * each level began, which that level's rollback restores. */
	int64_t seq_unwritten;
	int64_t seq_at_begin[63];
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[STMT_CACHE_MAX];
	size_t ncache;
};

/* Hands a statement of prepare() back: reset with its bindings cleared, kept
 * in the cache; for __attribute__((cleanup)). */
static void stmt_release(sqlite3_stmt **st)
{
	if (*st != NULL) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
	}
}
#define stmt_auto __attribute__((cleanup(stmt_release)))

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

int hb_store_open(const char *path, hb_store **out, hb_error *err)
{
	hb_store *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	rc = hb_db_open(path, "hem", &s->db, err);
	/* hem.db need not sync each commit (the journal does): in WAL mode a
	 * commit without sync survives hem's own crash, and what a power loss
	 * may take back (the newest commits, last_seq with them) hem takes
	 * again from the publisher's journal by REPLAY.  A 16 MiB page cache
	 * (SQLite's default is 2 MiB) keeps the queue and the hooks' newest
	 * records in memory however large the log grows (bench/scale.py). */
	if (rc == 0)
		rc = hb_db_exec(s->db, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384", err);
	if (rc == 0)
		rc = hb_checkpointer_start(path, s->db, &s->ckpt, err);
	if (rc < 0) {
		hb_db_close(s->db);
		free(s);
		return rc;
	}
	/* Records parked by an earlier run wait for ends that are gone. */
	s->requeue_parked = true;
	s->seq_unwritten = -1;
	*out = s;
	return 0;
}

void hb_store_close(hb_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	hb_checkpointer_stop(s->ckpt);
	hb_db_close(s->db);
	free(s);
}

/* Returns in *st the statement of sql (a string literal: its address is the
 * key), prepared once and then taken from the cache; the caller declares *st
 * stmt_auto so that it is reset, never finalized, when it leaves scope.  A
 * statement still running (a caller's loop over it calling back into the
 * store with the same SQL) is an error rather than shared. */
static int prepare(hb_store *s, const char *sql, sqlite3_stmt **st, hb_error *err)
{
	for (size_t i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql != sql)
			continue;
		if (sqlite3_stmt_busy(s->cache[i].st))
			return hb_error_set(err, -HB_EIO, "database: statement already in use: %s", sql);
		*st = s->cache[i].st;
		return 0;
	}
	if (s->ncache == STMT_CACHE_MAX)
		return hb_error_set(err, -HB_EIO, "database: more than %d distinct statements", STMT_CACHE_MAX);
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return hb_db_error(s->db, err, "database");
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].st = *st;
	s->ncache++;
	return 0;
}

/* Runs a statement without results to its end. */
static int step_done(hb_store *s, sqlite3_stmt *st, hb_error *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return hb_db_error(s->db, err, "database");
	return 0;
}

/* Runs one of the transaction statements (BEGIN, SAVEPOINT, COMMIT, RELEASE),
 * prepared once like the others rather than parsed at each use. */
static int tx_exec(hb_store *s, const char *sql, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, sql, &st, err) < 0)
		return err->code;
	return step_done(s, st, err);
}

static int meta_get(hb_store *s, const char *key, int64_t *v, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "SELECT value FROM meta WHERE key = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return hb_db_error(s->db, err, "reading meta");
	*v = sqlite3_column_int64(st, 0);
	return 0;
}

static int meta_set(hb_store *s, const char *key, int64_t v, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE meta SET value = ? WHERE key = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, v);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return step_done(s, st, err);
}

/* Whether SQLite ended the transaction of an open level on its own: after
 * some errors (SQLITE_FULL, SQLITE_IOERR, ...) it rolls the whole
 * transaction back, savepoints and all, and later statements would run
 * outside any transaction. */
static bool store_lost(const hb_store *s)
{
	return s->depth > 0 && sqlite3_get_autocommit(s->db);
}

int hb_store_begin(hb_store *s, hb_error *err)
{
	int rc = 0;

	if (s->depth >= 63)
		rc = hb_error_set(err, -HB_EIO, "database: transactions nested too deep");
	else if (store_lost(s))
		rc = hb_error_set(err, -HB_EIO, "database: the transaction was rolled back after an error");
	else if (tx_exec(s, s->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT nested", err) < 0)
		rc = err->code;
	if (rc < 0 && s->depth < 63)
		s->failed |= (uint64_t)1 << s->depth;
	if (s->depth < 63)
		s->seq_at_begin[s->depth++] = s->seq_unwritten;
	return rc;
}

int hb_store_commit(hb_store *s, hb_error *err)
{
	if (s->depth == 0)
		return 0;
	if (s->failed & ((uint64_t)1 << (s->depth - 1)))
		return hb_error_set(err, -HB_EIO, "database: commit of a transaction that did not begin");
	if (store_lost(s))
		return hb_error_set(err, -HB_EIO, "database: the transaction was rolled back after an error");
	if (s->depth == 1 && s->seq_unwritten >= 0 && meta_set(s, "last_seq", s->seq_unwritten, err) < 0)
		return err->code;
	if (tx_exec(s, s->depth == 1 ? "COMMIT" : "RELEASE nested", err) < 0)
		return err->code;
	s->depth--;
	if (s->depth == 0)
		s->seq_unwritten = -1;
	if (s->parks & ((uint64_t)1 << s->depth)) {
		s->parks &= ~((uint64_t)1 << s->depth);
		if (s->depth > 0)
			s->parks |= (uint64_t)1 << (s->depth - 1);
	}
	return 0;
}

void hb_store_rollback(hb_store *s)
{
	uint64_t level;

	if (s->depth == 0)
		return;
	level = (uint64_t)1 << (s->depth - 1);
	if (s->failed & level)
		s->failed &= ~level;
	else if (!store_lost(s))
		sqlite3_exec(s->db, s->depth == 1 ? "ROLLBACK" : "ROLLBACK TO nested; RELEASE nested", NULL, NULL,
			     NULL);
	s->depth--;
	s->seq_unwritten = s->seq_at_begin[s->depth];
	s->release_ms = 0;
	/* Parks and returns undone may no longer match what the caller
	 * runs: a hook's parked records could wait for an end already gone. */
	if (s->parks & level) {
		s->parks &= ~level;
		s->requeue_parked = true;
	}
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static char *col_blob(sqlite3_stmt *st, int i, size_t *len)
{
	const void *b = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *p;

	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, b, n);
	p[n] = '\0';
	*len = n;
	return p;
}

static int64_t col_int(sqlite3_stmt *st, int i, int64_t none)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

void hb_hook_row_clear(hb_hook_row *h)
{
	free(h->name);
	free(h->type);
	free(h->prefix);
	free(h->tmpl);
	memset(h, 0, sizeof(*h));
}

void hb_exec_row_clear(hb_exec_row *e)
{
	free(e->state);
	free(e->event_key);
	free(e->command);
	free(e->arguments);
	free(e->argv);
	free(e->stdin_data);
	free(e->remote_host);
	free(e->out);
	free(e->err);
	free(e->verdict);
	memset(e, 0, sizeof(*e));
}

/* Returns the id of the hook named name, or -1. */
static int64_t hook_by_name(hb_store *s, const char *name)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "SELECT id FROM hook WHERE name = ?", &st, NULL) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
}

int hb_store_hook_insert(hb_store *s, const char *name, const char *type, const char *prefix,
			 const char *tmpl, int64_t *id, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int64_t next = 0, other;
	int rc;

	other = hook_by_name(s, name);
	if (other >= 0)
		return hb_error_set(err, -HB_EINVAL, "NAME '%s' is already used by hook %lld", name, (long long)other);
	rc = hb_store_begin(s, err);
	if (rc == 0)
		rc = meta_get(s, "next_hook_id", &next, err);
	if (rc == 0)
		rc = prepare(s, "INSERT INTO hook (id, name, type, prefix, template, created, updated) "
			     "VALUES (?, ?, ?, ?, ?, ?, ?)", &st, err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, next);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, prefix, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, tmpl, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, now_s());
		sqlite3_bind_int64(st, 7, now_s());
		rc = step_done(s, st, err);
	}
	if (rc == 0)
		rc = meta_set(s, "next_hook_id", next + 1, err);
	if (rc == 0)
		rc = hb_store_commit(s, err);
	if (rc < 0) {
		hb_store_rollback(s);
		return rc;
	}
	*id = next;
	return 0;
}

static int hook_changed(hb_store *s, int64_t id, hb_error *err)
{
	if (sqlite3_changes(s->db) == 0)
		return hb_error_set(err, -HB_ENOENT, "hook %lld does not exist", (long long)id);
	return 0;
}

int hb_store_hook_update(hb_store *s, int64_t id, const char *name, const char *prefix,
			 const char *tmpl, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int64_t other = hook_by_name(s, name);

	if (other >= 0 && other != id)
		return hb_error_set(err, -HB_EINVAL, "NAME '%s' is already used by hook %lld", name, (long long)other);
	if (prepare(s, "UPDATE hook SET name = ?, prefix = ?, template = ?, updated = ? WHERE id = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tmpl, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_s());
	sqlite3_bind_int64(st, 5, id);
	if (step_done(s, st, err) < 0)
		return err->code;
	return hook_changed(s, id, err);
}

int hb_store_hook_delete(hb_store *s, int64_t id, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "DELETE FROM hook WHERE id = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	if (step_done(s, st, err) < 0)
		return err->code;
	return hook_changed(s, id, err);
}

int hb_store_hook_lock(hb_store *s, int64_t id, int level, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook SET lock_level = ?, lock_time = ? WHERE id = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int(st, 1, level);
	sqlite3_bind_int64(st, 2, level ? now_s() : 0);
	sqlite3_bind_int64(st, 3, id);
	if (step_done(s, st, err) < 0)
		return err->code;
	return hook_changed(s, id, err);
}

#define HOOK_COLUMNS "id, name, type, prefix, template, lock_level, lock_time, created, updated, next_exec"

static int hook_read(sqlite3_stmt *st, hb_hook_row *h, hb_error *err)
{
	h->id = sqlite3_column_int64(st, 0);
	h->name = col_text(st, 1);
	h->type = col_text(st, 2);
	h->prefix = col_text(st, 3);
	h->tmpl = col_text(st, 4);
	h->lock_level = sqlite3_column_int(st, 5);
	h->lock_time = sqlite3_column_int64(st, 6);
	h->created = sqlite3_column_int64(st, 7);
	h->updated = sqlite3_column_int64(st, 8);
	h->next_exec = sqlite3_column_int64(st, 9);
	if (!h->name || !h->type || !h->prefix || !h->tmpl) {
		hb_hook_row_clear(h);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return 0;
}

int hb_store_hook_get(hb_store *s, int64_t id, hb_hook_row *out, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, "SELECT " HOOK_COLUMNS " FROM hook WHERE id = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return hb_error_set(err, -HB_ENOENT, "hook %lld does not exist", (long long)id);
	if (rc != SQLITE_ROW)
		return hb_db_error(s->db, err, "reading a hook");
	return hook_read(st, out, err);
}

int hb_store_hooks_each(hb_store *s, hb_hook_fn fn, void *ctx, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, "SELECT " HOOK_COLUMNS " FROM hook ORDER BY id", &st, err) < 0)
		return err->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hb_hook_row h = { 0 };
		if (hook_read(st, &h, err) < 0)
			return err->code;
		rc = fn(ctx, &h, err);
		hb_hook_row_clear(&h);
		if (rc < 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return hb_db_error(s->db, err, "reading hooks");
	return 0;
}

int hb_store_exec_queue(hb_store *s, const hb_exec_new *e, int64_t *exec_id, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	stmt_auto sqlite3_stmt *in = NULL;
	stmt_auto sqlite3_stmt *cur = NULL;
	stmt_auto sqlite3_stmt *bump = NULL;
	int64_t next = 0;
	int rc;

	*exec_id = -1;
	rc = 0;
	if (e->seq >= 0 && e->retry_of < 0 && !e->new_seq) {
		stmt_auto sqlite3_stmt *dup = NULL;
		rc = prepare(s, "SELECT 1 FROM hook_exec WHERE hook_id = ? AND seq = ? AND retry_of IS NULL", &dup, err);
		if (rc == 0) {
			sqlite3_bind_int64(dup, 1, e->hook_id);
			sqlite3_bind_int64(dup, 2, e->seq);
			if (sqlite3_step(dup) == SQLITE_ROW)
				return 0;
		}
	}
	/* Each counter is read, then set: an UPDATE ... RETURNING would buffer
	 * its one row in a temporary b-tree. */
	if (rc == 0)
		rc = prepare(s, "SELECT next_exec FROM hook WHERE id = ?", &cur, err);
	if (rc == 0) {
		sqlite3_bind_int64(cur, 1, e->hook_id);
		if (sqlite3_step(cur) != SQLITE_ROW)
			rc = hb_error_set(err, -HB_ENOENT, "hook %lld does not exist", (long long)e->hook_id);
		else
			next = sqlite3_column_int64(cur, 0);
	}
	if (rc == 0)
		rc = prepare(s, "UPDATE hook SET next_exec = ? WHERE id = ?", &bump, err);
	if (rc == 0) {
		sqlite3_bind_int64(bump, 1, next + 1);
		sqlite3_bind_int64(bump, 2, e->hook_id);
		rc = step_done(s, bump, err);
	}
	/* The queue order is the new row's rowid, one more than the largest:
	 * later than every record queued. */
	if (rc == 0)
		rc = prepare(s, "INSERT INTO hook_exec (hook_id, exec_id, state, seq, event_key, retry_of, "
			     "command, remote_host, queued_ms, start_ms, end_ms, code, stderr, attempt, run_after_ms, "
			     "blocking, verdict, parked) "
			     "VALUES (?1, ?2, ?13, ?4, ?5, ?6, ?7, ?11, ?12, ?14, ?14, ?15, ?16, ?17, ?18, "
			     "?19, CASE WHEN ?19 AND ?13 <> 'PENDING' THEN 'refuse' END, "
			     "CASE WHEN ?18 IS NOT NULL AND ?13 = 'PENDING' THEN 2 ELSE 0 END)",
			     &st, err);
	if (rc == 0)
		rc = prepare(s, "INSERT INTO hook_input (qorder, arguments, argv, stdin_data) VALUES (?, ?, ?, ?)", &in, err);
	if (rc == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		sqlite3_bind_int64(st, 1, e->hook_id);
		sqlite3_bind_int64(st, 2, next);
		if (e->seq >= 0)
			sqlite3_bind_int64(st, 4, e->seq);
		sqlite3_bind_text(st, 5, e->event_key, -1, SQLITE_STATIC);
		if (e->retry_of >= 0)
			sqlite3_bind_int64(st, 6, e->retry_of);
		sqlite3_bind_text(st, 7, e->command, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, e->remote_host, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 12, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		sqlite3_bind_text(st, 13, e->refusal ? "ERROR" : e->skipped ? "SKIPPED" : "PENDING", -1, SQLITE_STATIC);
		if (e->refusal != NULL || e->skipped != NULL) {
			const char *why = e->refusal ? e->refusal : e->skipped;

			sqlite3_bind_int64(st, 14, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
			if (e->refusal != NULL)
				sqlite3_bind_int(st, 15, 255);
			sqlite3_bind_blob(st, 16, why, (int)strlen(why), SQLITE_STATIC);
		}
		sqlite3_bind_int(st, 17, e->attempt > 1 ? e->attempt : 1);
		if (e->run_after_ms > 0)
			sqlite3_bind_int64(st, 18, e->run_after_ms);
		sqlite3_bind_int(st, 19, e->blocking);
		rc = step_done(s, st, err);
	}
	if (rc == 0) {
		sqlite3_bind_int64(in, 1, sqlite3_last_insert_rowid(s->db));
		sqlite3_bind_text(in, 2, e->arguments, -1, SQLITE_STATIC);
		sqlite3_bind_blob(in, 3, e->argv_len ? e->argv : "", (int)e->argv_len, SQLITE_STATIC);
		if (e->stdin_data != NULL)
			sqlite3_bind_blob(in, 4, e->stdin_len ? e->stdin_data : "", (int)e->stdin_len, SQLITE_STATIC);
		rc = step_done(s, in, err);
	}
	if (rc == 0 && e->run_after_ms > 0 && e->run_after_ms < s->release_ms)
		s->release_ms = e->run_after_ms;
	if (rc < 0)
		return rc;
	*exec_id = next;
	return 0;
}

#define EXEC_COLUMNS "hook_id, exec_id, state, seq, event_key, retry_of, command, arguments, argv, " \
	"stdin_data, remote_host, queued_ms, start_ms, end_ms, code, signal, timed_out, stdout, stderr, " \
	"stdout_truncated, stderr_truncated, attempt, run_after_ms, blocking, verdict"

static int exec_read(sqlite3_stmt *st, hb_exec_row *e, hb_error *err)
{
	e->hook_id = sqlite3_column_int64(st, 0);
	e->exec_id = sqlite3_column_int64(st, 1);
	e->state = col_text(st, 2);
	e->seq = col_int(st, 3, -1);
	e->event_key = col_text(st, 4);
	e->retry_of = col_int(st, 5, -1);
	e->command = col_text(st, 6);
	e->arguments = col_text(st, 7);
	e->argv = col_blob(st, 8, &e->argv_len);
	e->stdin_data = col_blob(st, 9, &e->stdin_len);
	e->remote_host = col_text(st, 10);
	e->queued_ms = sqlite3_column_int64(st, 11);
	e->start_ms = col_int(st, 12, -1);
	e->end_ms = col_int(st, 13, -1);
	e->code = (int)col_int(st, 14, -1);
	e->signal = (int)col_int(st, 15, 0);
	e->timed_out = sqlite3_column_int(st, 16) != 0;
	e->out = col_blob(st, 17, &e->out_len);
	e->err = col_blob(st, 18, &e->err_len);
	e->out_truncated = sqlite3_column_int(st, 19) != 0;
	e->err_truncated = sqlite3_column_int(st, 20) != 0;
	e->attempt = sqlite3_column_int(st, 21);
	e->run_after_ms = col_int(st, 22, -1);
	e->blocking = sqlite3_column_int(st, 23) != 0;
	e->verdict = col_text(st, 24);
	if (!e->state || !e->command || !e->arguments || !e->argv) {
		hb_exec_row_clear(e);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	return 0;
}

/* Runs a statement that parks or returns records; notes that the open
 * transaction's level did, for hb_store_rollback(). */
static int park_change(hb_store *s, sqlite3_stmt *st, hb_error *err)
{
	if (step_done(s, st, err) < 0)
		return err->code;
	if (s->depth > 0 && s->depth <= 63 && sqlite3_changes(s->db) > 0)
		s->parks |= (uint64_t)1 << (s->depth - 1);
	return 0;
}

static int unpark_all(hb_store *s, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec SET parked = 0 WHERE state = 'PENDING' AND parked = 1", &st, err) < 0)
		return err->code;
	return park_change(s, st, err);
}

/* The earliest RUN_AFTER time later than after_ms of a waiting retry in
 * *due_ms, INT64_MAX when none waits. */
static int earliest_retry(hb_store *s, int64_t after_ms, int64_t *due_ms, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "SELECT min(run_after_ms) FROM hook_exec INDEXED BY hook_exec_due "
		    "WHERE state = 'PENDING' AND parked = 2 AND run_after_ms > ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, after_ms);
	if (sqlite3_step(st) != SQLITE_ROW)
		return hb_db_error(s->db, err, "reading the queue");
	*due_ms = col_int(st, 0, INT64_MAX);
	return 0;
}

/* Returns the waiting retries due at now_ms to the queue, and notes when
 * the next one is due. */
static int release_due(hb_store *s, int64_t now_ms, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec INDEXED BY hook_exec_due SET parked = 0 "
		    "WHERE state = 'PENDING' AND parked = 2 AND run_after_ms <= ?",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, now_ms);
	if (step_done(s, st, err) < 0)
		return err->code;
	return earliest_retry(s, now_ms, &s->release_ms, err);
}

int hb_store_exec_next(hb_store *s, int64_t now_ms, bool blocking_only, hb_exec_row *rows, size_t max,
		       hb_take_fn take, void *ctx, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	size_t n = 0;

	if (prepare(s, blocking_only ?
		    "SELECT " EXEC_COLUMNS " FROM hook_log WHERE state = 'PENDING' AND parked = 0 AND blocking = 1 "
		    "ORDER BY blocking DESC, qorder" :
		    "SELECT " EXEC_COLUMNS " FROM hook_log WHERE state = 'PENDING' AND parked = 0 "
		    "ORDER BY blocking DESC, qorder", &st, err) < 0)
		return err->code;
	if (s->requeue_parked) {
		if (unpark_all(s, err) < 0)
			return err->code;
		s->requeue_parked = false;
	}
	if (now_ms >= s->release_ms && release_due(s, now_ms, err) < 0)
		return err->code;
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		if (take != NULL && !take(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
					  sqlite3_column_int(st, 23) != 0))
			continue;
		if (exec_read(st, &rows[n], err) < 0) {
			for (size_t i = 0; i < n; i++)
				hb_exec_row_clear(&rows[i]);
			return err->code;
		}
		n++;
	}
	return (int)n;
}

int hb_store_exec_park(hb_store *s, int64_t hook_id, int64_t exec_id, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec SET parked = 1 WHERE hook_id = ? AND exec_id = ? AND state = 'PENDING'",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, hook_id);
	sqlite3_bind_int64(st, 2, exec_id);
	return park_change(s, st, err);
}

int hb_store_exec_unpark(hb_store *s, int64_t hook_id, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec SET parked = 0 WHERE qorder = (SELECT qorder FROM hook_exec "
		    "WHERE hook_id = ? AND state = 'PENDING' AND parked = 1 ORDER BY qorder LIMIT 1)", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, hook_id);
	return park_change(s, st, err);
}

void hb_store_exec_requeue_parked(hb_store *s)
{
	s->requeue_parked = true;
}

int hb_store_exec_next_due(hb_store *s, int64_t now_ms, int64_t *due_ms, hb_error *err)
{
	int64_t due = s->release_ms;

	/* What release_due() last found, lowered by every retry queued since:
	 * never later than the earliest waiting retry.  Known and still to
	 * come, it is the answer; otherwise the index says. */
	if (due <= now_ms && earliest_retry(s, now_ms, &due, err) < 0)
		return err->code;
	*due_ms = due == INT64_MAX ? -1 : due;
	return 0;
}

int hb_store_exec_active(hb_store *s, int64_t hook_id, int64_t *count, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "SELECT count(*) FROM hook_exec WHERE hook_id = ? AND state IN ('PENDING', 'RUNNING')",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, hook_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return hb_db_error(s->db, err, "counting a hook's executions");
	*count = sqlite3_column_int64(st, 0);
	return 0;
}

int hb_store_exec_start(hb_store *s, int64_t hook_id, int64_t exec_id, int64_t start_ms, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec SET state = 'RUNNING', start_ms = ? WHERE hook_id = ? AND exec_id = ?",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, start_ms);
	sqlite3_bind_int64(st, 2, hook_id);
	sqlite3_bind_int64(st, 3, exec_id);
	return step_done(s, st, err);
}

#define PRUNE_BATCH 64
/* The completion of a record: FINISH_SET, start_ms only for a record that
 * never started, then FINISH_WHERE. */
#define FINISH_SET "UPDATE hook_exec SET state = ?1, end_ms = ?2, code = ?3, signal = ?4, timed_out = ?5, " \
	"stdout = ?6, stderr = ?7, stdout_truncated = ?8, stderr_truncated = ?9, "
#define FINISH_WHERE "verdict = CASE WHEN blocking = 1 THEN CASE WHEN ?1 = 'SUCCESS' THEN 'allow' " \
	"ELSE 'refuse' END END WHERE hook_id = ?11 AND exec_id = ?12"

int hb_store_exec_finish(hb_store *s, int64_t hook_id, int64_t exec_id, const hb_exec_end *end,
			 int64_t retention, bool limited, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	stmt_auto sqlite3_stmt *find = NULL;
	stmt_auto sqlite3_stmt *prune = NULL;
	int rc;

	/* start_ms is set only for a record that never started: an
	 * assignment, even of the same value, rewrites its index entry. */
	rc = prepare(s, end->never_started ? FINISH_SET "start_ms = ?10, " FINISH_WHERE :
			     FINISH_SET FINISH_WHERE, &st, err);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, end->state, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, end->end_ms);
		sqlite3_bind_int(st, 3, end->code);
		if (end->signal)
			sqlite3_bind_int(st, 4, end->signal);
		sqlite3_bind_int(st, 5, end->timed_out);
		sqlite3_bind_blob(st, 6, end->out ? end->out : "", (int)end->out_len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 7, end->err ? end->err : "", (int)end->err_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 8, end->out_truncated);
		sqlite3_bind_int(st, 9, end->err_truncated);
		sqlite3_bind_int64(st, 10, end->end_ms);
		sqlite3_bind_int64(st, 11, hook_id);
		sqlite3_bind_int64(st, 12, exec_id);
		rc = step_done(s, st, err);
	}
	/* The end frees one of the hook's CONCURRENCY slots. */
	if (rc == 0 && limited)
		rc = hb_store_exec_unpark(s, hook_id, err);
	/* Retention: the finished records of the hook's newest `retention`
	 * executions stay.  Execution ids only grow, so the cut-off is the
	 * hook's next id less `retention`: a range of the index of finished
	 * records (end_ms set) whose cost depends neither on how many records
	 * are kept nor on how many of the hook's wait in the queue.  Its
	 * records are found first, then deleted each by its key (the queue
	 * order; the trigger deletes its input): a DELETE of the range would
	 * gather their keys in a temporary b-tree, even for the one record a
	 * finish usually prunes. */
	while (rc == 0 && retention >= 0) {
		int64_t ids[PRUNE_BATCH];
		size_t n = 0;
		int step = SQLITE_ROW;

		rc = prepare(s, "SELECT qorder FROM hook_exec INDEXED BY hook_exec_done WHERE hook_id = ?1 AND exec_id < "
			     "(SELECT next_exec FROM hook WHERE id = ?1) - ?2 AND end_ms IS NOT NULL", &find, err);
		if (rc < 0)
			break;
		sqlite3_bind_int64(find, 1, hook_id);
		sqlite3_bind_int64(find, 2, retention);
		while (n < PRUNE_BATCH && (step = sqlite3_step(find)) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(find, 0);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			rc = hb_db_error(s->db, err, "pruning the log");
		sqlite3_reset(find);
		if (rc == 0 && n > 0)
			rc = prepare(s, "DELETE FROM hook_exec WHERE qorder = ?", &prune, err);
		for (size_t k = 0; rc == 0 && k < n; k++) {
			sqlite3_bind_int64(prune, 1, ids[k]);
			rc = step_done(s, prune, err);
			sqlite3_reset(prune);
		}
		if (n < PRUNE_BATCH)
			break;
	}
	return rc;
}

int hb_store_exec_get(hb_store *s, int64_t hook_id, int64_t exec_id, hb_exec_row *out, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, "SELECT " EXEC_COLUMNS " FROM hook_log WHERE hook_id = ? AND exec_id = ?", &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, hook_id);
	sqlite3_bind_int64(st, 2, exec_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return hb_error_set(err, -HB_ENOENT, "hook %lld has no execution %lld", (long long)hook_id,
				    (long long)exec_id);
	if (rc != SQLITE_ROW)
		return hb_db_error(s->db, err, "reading an execution");
	return exec_read(st, out, err);
}

int hb_store_exec_query(hb_store *s, const hb_log_filter *f, hb_exec_fn fn, void *ctx, hb_error *err)
{
	hb_autostmt sqlite3_stmt *st = NULL;
	char sql[1024];
	int rc, i = 1;

	snprintf(sql, sizeof(sql),
		 "SELECT " EXEC_COLUMNS " FROM hook_log WHERE 1 %s %s %s %s ORDER BY %s LIMIT ?",
		 f->hook_id >= 0 ? "AND hook_id = ?" : "",
		 f->since >= 0 ? "AND start_ms >= ? * 1000" : "",
		 f->until >= 0 ? "AND start_ms < (? + 1) * 1000" : "",
		 f->success_only ? "AND state = 'SUCCESS'" : f->error_only ? "AND state IN ('ERROR', 'INTERRUPTED')" : "",
		 f->hook_id >= 0 ? "exec_id" : "coalesce(start_ms, queued_ms), hook_id, exec_id");
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return hb_db_error(s->db, err, "log query");
	if (f->hook_id >= 0)
		sqlite3_bind_int64(st, i++, f->hook_id);
	if (f->since >= 0)
		sqlite3_bind_int64(st, i++, f->since);
	if (f->until >= 0)
		sqlite3_bind_int64(st, i++, f->until);
	sqlite3_bind_int64(st, i, f->limit >= 0 ? f->limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hb_exec_row e = { 0 };
		if (exec_read(st, &e, err) < 0)
			return err->code;
		rc = fn(ctx, &e, err);
		hb_exec_row_clear(&e);
		if (rc < 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return hb_db_error(s->db, err, "log query");
	return 0;
}

int hb_store_exec_blocking_of(hb_store *s, int64_t seq, hb_exec_fn fn, void *ctx, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, "SELECT " EXEC_COLUMNS " FROM hook_log WHERE seq = ? AND blocking = 1 ORDER BY hook_id, exec_id",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hb_exec_row e = { 0 };
		if (exec_read(st, &e, err) < 0)
			return err->code;
		rc = fn(ctx, &e, err);
		hb_exec_row_clear(&e);
		if (rc < 0)
			return rc;
	}
	if (rc != SQLITE_DONE)
		return hb_db_error(s->db, err, "reading an event's blocking executions");
	return 0;
}

int hb_store_exec_interrupt_running(hb_store *s, int64_t now_ms, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "UPDATE hook_exec SET state = 'INTERRUPTED', end_ms = ?, code = 255, "
		    "verdict = CASE WHEN blocking = 1 THEN 'refuse' END WHERE state = 'RUNNING'",
		    &st, err) < 0)
		return err->code;
	sqlite3_bind_int64(st, 1, now_ms);
	if (step_done(s, st, err) < 0)
		return err->code;
	return sqlite3_changes(s->db);
}

int hb_store_exec_pending(hb_store *s, int64_t *count, hb_error *err)
{
	stmt_auto sqlite3_stmt *st = NULL;

	if (prepare(s, "SELECT count(*) FROM hook_exec WHERE state = 'PENDING'", &st, err) < 0)
		return err->code;
	if (sqlite3_step(st) != SQLITE_ROW)
		return hb_db_error(s->db, err, "counting the queue");
	*count = sqlite3_column_int64(st, 0);
	return 0;
}

int hb_store_last_seq(hb_store *s, int64_t *seq, hb_error *err)
{
	if (s->seq_unwritten >= 0) {
		*seq = s->seq_unwritten;
		return 0;
	}
	return meta_get(s, "last_seq", seq, err);
}

int hb_store_set_last_seq(hb_store *s, int64_t seq, hb_error *err)
{
	if (s->depth > 0) {
		s->seq_unwritten = seq;
		return 0;
	}
	return meta_set(s, "last_seq", seq, err);
}
