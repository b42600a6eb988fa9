/* journal.h -- hm-publisher's durable record of every accepted message (journal.db). */
#ifndef HB_JOURNAL_H
#define HB_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct hb_journal hb_journal;

/* Opens (creating or migrating) the journal at path; retention is how many
 * of the newest events are kept (at least 1).  Closed with hb_journal_close(). */
int hb_journal_open(const char *path, int64_t retention, hb_journal **out, hb_error *err);

/* Closes j; accepts NULL. */
void hb_journal_close(hb_journal *j);

/* The last sequence number ever assigned (0 for a new journal). */
uint64_t hb_journal_last_seq(const hb_journal *j);

/* The last sequence number known to be on the disk: that of the last group
 * whose hb_journal_sync() has been reported with hb_journal_durable(). */
uint64_t hb_journal_durable_seq(const hb_journal *j);

/* The oldest sequence number still kept (last_seq + 1 when empty). */
int hb_journal_first_seq(hb_journal *j, uint64_t *out, hb_error *err);

/* Starts a group of appends that hb_journal_commit() keeps together or
 * hb_journal_rollback() forgets. */
int hb_journal_begin(hb_journal *j, hb_error *err);

/* Appends event seq, which must be last_seq + 1, with its keys (newline
 * separated) and base64 content.  Both strings are copied by SQLite. */
int hb_journal_append(hb_journal *j, uint64_t seq, const char *keys, const char *content,
		      size_t len, hb_error *err);

/* Prunes events older than the retention window with one indexed range
 * delete, then commits the group: it survives the daemon's end on return,
 * and a power loss once hb_journal_sync() has returned 0 after it. */
int hb_journal_commit(hb_journal *j, hb_error *err);

/* Flushes to the disk every group committed before the call (fdatasync of
 * the WAL).  It touches nothing else of j, so another thread may run it
 * while this one begins, appends and commits the next group. */
int hb_journal_sync(hb_journal *j, hb_error *err);

/* Records that the groups up to seq are on the disk (after a sync). */
void hb_journal_durable(hb_journal *j, uint64_t seq);

/* Abandons the group; last_seq returns to what it was at begin. */
void hb_journal_rollback(hb_journal *j);

/* Calls fn for the events from seq `from` to `upto`, in order, stopping after
 * max_events or once max_bytes of content have been passed (always at least
 * one event).  *next is the first seq not passed.  fn returns 0 to go on or
 * a negative code to stop with that error. */
typedef int (*hb_journal_fn)(void *ctx, uint64_t seq, const char *keys, const char *content,
			     size_t len, hb_error *err);
int hb_journal_read(hb_journal *j, uint64_t from, uint64_t upto, size_t max_events, size_t max_bytes,
		    hb_journal_fn fn, void *ctx, uint64_t *next, hb_error *err);

#endif
