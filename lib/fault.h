/* fault.h -- the fault-injection test seam: HB_FAULT makes a daemon fail at a named point. */
#ifndef HB_FAULT_H
#define HB_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A TEST SEAM, not a feature.  The environment variable HB_FAULT, read once
 * (at the first call), holds comma-separated "name:N" pairs, for example
 * HB_FAULT=publisher_kill_after_journal:3.  Code calls hb_fault_hit() at the
 * point a test wants to break; the test names that point.  Without HB_FAULT
 * every call is a cheap no-op.  Whoever can set a daemon's environment can
 * already run anything as that daemon, so the seam grants nothing more.
 *
 * Points in use:
 *   publisher_kill_after_journal:N  hm-publisher _exit(137)s right after its
 *                                   Nth journal commit, before publishing or
 *                                   acknowledging that group
 *   journal_sync_fail:N             hm-publisher's Nth flush of its journal
 *                                   fails with EIO
 *   hem_db_max_pages:N, journal_db_max_pages:N
 *                                   hem.db or journal.db is opened with
 *                                   PRAGMA max_page_count = N (a full disk)
 */

/* Counts one pass of the point name and returns true on its Nth pass, N
 * being name's value in HB_FAULT; false when HB_FAULT does not name it. */
bool hb_fault_hit(const char *name);

/* Returns name's value in HB_FAULT, or -1 when HB_FAULT does not name it. */
int64_t hb_fault_value(const char *name);

#endif
