/* records.h -- execution records (HOOK_EXECUTION_RECORD) as hookctl shows them: table cells and the detailed view. */
#ifndef HB_CLI_RECORDS_H
#define HB_CLI_RECORDS_H

#include <stddef.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "error.h"

/* The elements of one record, as text (NULL when hem left one out). */
typedef struct hb_record {
	char *hook_id, *exec_id, *timestamp, *arguments, *remote_host, *retry, *state, *end_timestamp,
	     *duration_ms, *timed_out, *signal, *seq, *event_key, *retry_of, *stdout_truncated,
	     *stderr_truncated, *attempt, *run_after, *blocking, *verdict;
	char *command, *stdout_b64, *stderr_b64, *code;   /* from EXECUTION_RESULT */
} hb_record;

/* Reads the record element node into r (whose strings the caller releases
 * with hb_record_clear, even on failure).  A record without HOOK_ID,
 * EXECUTION_ID or TIMESTAMP is -HB_EIO. */
int hb_record_read(xmlNodePtr node, hb_record *r, hb_error *err);

/* Frees r's strings and zeroes it. */
void hb_record_clear(hb_record *r);

static inline void hb_record_cleanup(hb_record *r)
{
	hb_record_clear(r);
}
#define hb_autorecord __attribute__((cleanup(hb_record_cleanup)))

/* The EXECUTION cell: the state (SUCCESS, ERROR, PENDING, RUNNING,
 * INTERRUPTED, SKIPPED; from CODE when hem gave none), then " (timeout)" when
 * it timed out, " (retry of N)" for a retry, " (attempt N)" for an
 * automatic retry's attempt and " (blocking: allow|refuse)" for a blocking
 * execution (" (blocking)" until it has voted).  Written to buf, which is returned. */
const char *hb_record_execution(const hb_record *r, char *buf, size_t size);

/* The RC cell: the exit code, or "-" while the hook has not finished and
 * for a SKIPPED execution (which never ran). */
const char *hb_record_rc(const hb_record *r);

/* The TIMESTAMP cell: the start in local time, onehook's short format. */
const char *hb_record_time(const hb_record *r, char *buf, size_t size);

/* Prints the detailed view of `show ID -e EXEC_ID`: the record's fields, then
 * STDOUT and STDERR sections with the decoded output.  Bad base64 is
 * -HB_EIO. */
int hb_record_print(FILE *out, const hb_record *r, hb_error *err);

#endif
