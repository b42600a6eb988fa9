/* journal.c -- the publisher's journal: SQLite in WAL mode, one transaction per group of messages. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "checkpointer.h"
#include "db.h"
#include "fault.h"

struct hb_journal {
	sqlite3 *db;
	hb_checkpointer *ckpt;
	sqlite3_stmt *insert;
	sqlite3_stmt *set_last;
	sqlite3_stmt *prune;
	sqlite3_stmt *select;
	sqlite3_stmt *first;
	int wal_fd;           /* the WAL, which hb_journal_sync() flushes */
	int64_t retention;
	uint64_t last_seq;
	uint64_t begin_seq;   /* last_seq when the open group began */
	uint64_t durable_seq; /* the last seq known to be on the disk */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hb_journal_close(hb_journal *j)
{
	if (j == NULL)
		return;
	sqlite3_finalize(j->insert);
	sqlite3_finalize(j->set_last);
	sqlite3_finalize(j->prune);
	sqlite3_finalize(j->select);
	sqlite3_finalize(j->first);
	hb_checkpointer_stop(j->ckpt);
	hb_db_close(j->db);
	if (j->wal_fd >= 0)
		close(j->wal_fd);
	free(j);
}

/* The journal's commits write the WAL and leave its flush to
 * hb_journal_sync(), which another thread may run while the next group is
 * prepared: SQLite's synchronous = NORMAL, which in WAL mode still syncs
 * the WAL's header and every checkpoint.  The WAL, named by SQLite, exists
 * while a connection is open (the migrations and the checkpointer have
 * read). */
static int journal_wal_open(hb_journal *j, hb_error *err)
{
	const char *wal;
	int rc;

	rc = hb_db_exec(j->db, "PRAGMA synchronous = NORMAL", err);
	if (rc < 0)
		return rc;
	wal = sqlite3_filename_wal(sqlite3_db_filename(j->db, "main"));
	if (wal == NULL || wal[0] == '\0')
		return hb_error_set(err, -HB_EIO, "the journal has no WAL file");
	j->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (j->wal_fd < 0)
		return hb_error_set(err, -HB_EIO, "cannot open the journal's WAL %s: %s", wal, strerror(errno));
	return 0;
}

int hb_journal_open(const char *path, int64_t retention, hb_journal **out, hb_error *err)
{
	hb_journal *j = calloc(1, sizeof(*j));
	sqlite3_stmt *st = NULL;
	int rc;

	if (j == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	j->wal_fd = -1;
	j->retention = retention < 1 ? 1 : retention;
	rc = hb_db_open(path, "journal", &j->db, err);
	if (rc < 0) {
		free(j);
		return rc;
	}
	if (sqlite3_prepare_v2(j->db, "INSERT INTO event (seq, received, keys, content) VALUES (?, ?, ?, ?)",
			       -1, &j->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "UPDATE meta SET value = ? WHERE key = 'last_seq'", -1, &j->set_last,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "DELETE FROM event WHERE seq <= ?", -1, &j->prune, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "SELECT seq, keys, content FROM event WHERE seq >= ? AND seq <= ? "
			       "ORDER BY seq LIMIT ?", -1, &j->select, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "SELECT min(seq) FROM event", -1, &j->first, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = 'last_seq'", -1, &st, NULL) != SQLITE_OK) {
		rc = hb_db_error(j->db, err, "preparing the journal");
		sqlite3_finalize(st);
		hb_journal_close(j);
		return rc;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		j->last_seq = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	j->durable_seq = j->last_seq;
	rc = hb_checkpointer_start(path, j->db, &j->ckpt, err);
	if (rc == 0)
		rc = journal_wal_open(j, err);
	if (rc < 0) {
		hb_journal_close(j);
		return rc;
	}
	*out = j;
	return 0;
}

uint64_t hb_journal_last_seq(const hb_journal *j)
{
	return j->last_seq;
}

uint64_t hb_journal_durable_seq(const hb_journal *j)
{
	return j->durable_seq;
}

int hb_journal_sync(hb_journal *j, hb_error *err)
{
	if (hb_fault_hit("journal_sync_fail"))
		return hb_error_set(err, -HB_EIO, "syncing the journal: %s (HB_FAULT)", strerror(EIO));
	if (fdatasync(j->wal_fd) < 0)
		return hb_error_set(err, -HB_EIO, "syncing the journal: %s", strerror(errno));
	return 0;
}

void hb_journal_durable(hb_journal *j, uint64_t seq)
{
	if (seq > j->durable_seq)
		j->durable_seq = seq;
}

int hb_journal_first_seq(hb_journal *j, uint64_t *out, hb_error *err)
{
	int rc;

	sqlite3_reset(j->first);
	rc = sqlite3_step(j->first);
	if (rc != SQLITE_ROW)
		return hb_db_error(j->db, err, "reading the journal");
	*out = sqlite3_column_type(j->first, 0) == SQLITE_NULL ? j->last_seq + 1
		: (uint64_t)sqlite3_column_int64(j->first, 0);
	sqlite3_reset(j->first);
	return 0;
}

int hb_journal_begin(hb_journal *j, hb_error *err)
{
	j->begin_seq = j->last_seq;
	return hb_db_exec(j->db, "BEGIN IMMEDIATE", err);
}

int hb_journal_append(hb_journal *j, uint64_t seq, const char *keys, const char *content,
		      size_t len, hb_error *err)
{
	int rc;

	if (seq != j->last_seq + 1)
		return hb_error_set(err, -HB_EINVAL, "journal: sequence %llu out of order",
				    (unsigned long long)seq);
	sqlite3_reset(j->insert);
	sqlite3_bind_int64(j->insert, 1, (sqlite3_int64)seq);
	sqlite3_bind_int64(j->insert, 2, now_ms());
	sqlite3_bind_text(j->insert, 3, keys, -1, SQLITE_STATIC);
	sqlite3_bind_text(j->insert, 4, content, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(j->insert);
	sqlite3_clear_bindings(j->insert);
	sqlite3_reset(j->insert);
	if (rc != SQLITE_DONE)
		return hb_db_error(j->db, err, "journal append");
	j->last_seq = seq;
	return 0;
}

int hb_journal_commit(hb_journal *j, hb_error *err)
{
	int rc;

	sqlite3_reset(j->set_last);
	sqlite3_bind_int64(j->set_last, 1, (sqlite3_int64)j->last_seq);
	rc = sqlite3_step(j->set_last);
	sqlite3_reset(j->set_last);
	if (rc != SQLITE_DONE) {
		rc = hb_db_error(j->db, err, "journal commit");
		hb_journal_rollback(j);
		return rc;
	}
	if ((int64_t)j->last_seq > j->retention) {
		sqlite3_reset(j->prune);
		sqlite3_bind_int64(j->prune, 1, (sqlite3_int64)j->last_seq - j->retention);
		rc = sqlite3_step(j->prune);
		sqlite3_reset(j->prune);
		if (rc != SQLITE_DONE) {
			rc = hb_db_error(j->db, err, "journal retention");
			hb_journal_rollback(j);
			return rc;
		}
	}
	rc = hb_db_exec(j->db, "COMMIT", err);
	if (rc < 0) {
		hb_journal_rollback(j);
		return hb_error_prefix(err, "journal commit");
	}
	return 0;
}

void hb_journal_rollback(hb_journal *j)
{
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	j->last_seq = j->begin_seq;
}

int hb_journal_read(hb_journal *j, uint64_t from, uint64_t upto, size_t max_events, size_t max_bytes,
		    hb_journal_fn fn, void *ctx, uint64_t *next, hb_error *err)
{
	size_t events = 0, bytes = 0;
	int rc = 0, step;

	*next = from;
	sqlite3_reset(j->select);
	sqlite3_bind_int64(j->select, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(j->select, 2, (sqlite3_int64)upto);
	sqlite3_bind_int64(j->select, 3, (sqlite3_int64)max_events);
	while ((step = sqlite3_step(j->select)) == SQLITE_ROW) {
		uint64_t seq = (uint64_t)sqlite3_column_int64(j->select, 0);
		const char *keys = (const char *)sqlite3_column_text(j->select, 1);
		const char *content = (const char *)sqlite3_column_text(j->select, 2);
		size_t len = (size_t)sqlite3_column_bytes(j->select, 2);

		if (events > 0 && bytes + len > max_bytes)
			break;
		rc = fn(ctx, seq, keys ? keys : "", content ? content : "", len, err);
		if (rc < 0)
			break;
		events++;
		bytes += len;
		*next = seq + 1;
	}
	if (rc == 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = hb_db_error(j->db, err, "reading the journal");
	sqlite3_reset(j->select);
	return rc;
}
