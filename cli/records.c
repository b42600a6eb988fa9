/* records.c -- reading hem's execution records and rendering them as table cells or as a detailed view. */
#include "records.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cleanup.h"
#include "dates.h"
#include "output.h"
#include "xml.h"

#define OUTPUT_MAX (64u << 20) /* largest decoded STDOUT/STDERR accepted from hem */

/* Where each element of a record goes. */
static const struct {
	const char *name;
	size_t offset;
	bool in_result;   /* a child of EXECUTION_RESULT */
} fields[] = {
	{ "HOOK_ID", offsetof(hb_record, hook_id), false },
	{ "EXECUTION_ID", offsetof(hb_record, exec_id), false },
	{ "TIMESTAMP", offsetof(hb_record, timestamp), false },
	{ "ARGUMENTS", offsetof(hb_record, arguments), false },
	{ "REMOTE_HOST", offsetof(hb_record, remote_host), false },
	{ "RETRY", offsetof(hb_record, retry), false },
	{ "STATE", offsetof(hb_record, state), false },
	{ "END_TIMESTAMP", offsetof(hb_record, end_timestamp), false },
	{ "DURATION_MS", offsetof(hb_record, duration_ms), false },
	{ "TIMED_OUT", offsetof(hb_record, timed_out), false },
	{ "SIGNAL", offsetof(hb_record, signal), false },
	{ "SEQ", offsetof(hb_record, seq), false },
	{ "EVENT_KEY", offsetof(hb_record, event_key), false },
	{ "RETRY_OF", offsetof(hb_record, retry_of), false },
	{ "ATTEMPT", offsetof(hb_record, attempt), false },
	{ "RUN_AFTER", offsetof(hb_record, run_after), false },
	{ "STDOUT_TRUNCATED", offsetof(hb_record, stdout_truncated), false },
	{ "STDERR_TRUNCATED", offsetof(hb_record, stderr_truncated), false },
	{ "BLOCKING", offsetof(hb_record, blocking), false },
	{ "VERDICT", offsetof(hb_record, verdict), false },
	{ "COMMAND", offsetof(hb_record, command), true },
	{ "STDOUT", offsetof(hb_record, stdout_b64), true },
	{ "STDERR", offsetof(hb_record, stderr_b64), true },
	{ "CODE", offsetof(hb_record, code), true },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static char **slot(hb_record *r, size_t i)
{
	return (char **)((char *)r + fields[i].offset);
}

int hb_record_read(xmlNodePtr node, hb_record *r, hb_error *err)
{
	xmlNodePtr result = hb_xml_child(node, "EXECUTION_RESULT");

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < NFIELDS; i++) {
		xmlNodePtr parent = fields[i].in_result ? result : node;
		if (parent == NULL || hb_xml_child(parent, fields[i].name) == NULL)
			continue;
		*slot(r, i) = hb_xml_child_text(parent, fields[i].name);
		if (*slot(r, i) == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (r->hook_id == NULL || r->exec_id == NULL || r->timestamp == NULL)
		return hb_error_set(err, -HB_EIO, "malformed answer from hem: an execution record lacks its ids or timestamp");
	return 0;
}

void hb_record_clear(hb_record *r)
{
	for (size_t i = 0; i < NFIELDS; i++)
		free(*slot(r, i));
	memset(r, 0, sizeof(*r));
}

static bool is(const char *s, const char *v)
{
	return s != NULL && strcmp(s, v) == 0;
}

static bool finished(const hb_record *r)
{
	return !is(r->state, "PENDING") && !is(r->state, "RUNNING");
}

const char *hb_record_execution(const hb_record *r, char *buf, size_t size)
{
	const char *state = r->state;
	size_t n;

	if (state == NULL)
		state = is(r->code, "0") ? "SUCCESS" : "ERROR";
	n = (size_t)snprintf(buf, size, "%s", state);
	if (is(r->timed_out, "yes") && n < size)
		n += (size_t)snprintf(buf + n, size - n, " (timeout)");
	if (r->retry_of != NULL && n < size)
		n += (size_t)snprintf(buf + n, size - n, " (retry of %s)", r->retry_of);
	else if (is(r->retry, "yes") && n < size)
		n += (size_t)snprintf(buf + n, size - n, " (retry)");
	if (r->attempt != NULL && !is(r->attempt, "1") && n < size)
		n += (size_t)snprintf(buf + n, size - n, " (attempt %s)", r->attempt);
	if (is(r->blocking, "yes") && r->verdict != NULL && n < size)
		snprintf(buf + n, size - n, " (blocking: %s)", r->verdict);
	else if (is(r->blocking, "yes") && n < size)
		snprintf(buf + n, size - n, " (blocking)");
	return buf;
}

const char *hb_record_rc(const hb_record *r)
{
	return finished(r) && !is(r->state, "SKIPPED") && r->code != NULL ? r->code : "-";
}

/* Formats the epoch seconds in s with fmt; "-" when s is absent or not a number. */
static const char *epoch(const char *s, const char *fmt, char *buf, size_t size)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0')
		return "-";
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return "-";
	return hb_date_format(v, fmt, buf, size);
}

const char *hb_record_time(const hb_record *r, char *buf, size_t size)
{
	return epoch(r->timestamp, HB_DATE_SHORT, buf, size);
}

static const char *duration(const hb_record *r, char *buf, size_t size)
{
	char *end;
	long long ms;

	if (r->duration_ms == NULL)
		return "-";
	ms = strtoll(r->duration_ms, &end, 10);
	if (*end != '\0' || ms < 0)
		return r->duration_ms;
	if (ms < 1000)
		snprintf(buf, size, "%lld ms", ms);
	else
		snprintf(buf, size, "%lld.%03lld s", ms / 1000, ms % 1000);
	return buf;
}

/* Prints one output section: its title, the decoded text, a note when hem
 * truncated it. */
static int print_output(FILE *out, const char *title, const char *b64, const char *truncated, hb_error *err)
{
	hb_autofree unsigned char *bytes = NULL;
	size_t len = 0;

	if (b64 != NULL && b64[0] != '\0' && hb_base64_decode(b64, strlen(b64), OUTPUT_MAX, &bytes, &len, err) < 0) {
		hb_error_prefix(err, "malformed answer from hem: %s", title);
		err->code = -HB_EIO;
		return err->code;
	}
	hb_output_section(out, 0, title);
	fwrite(bytes ? bytes : (const unsigned char *)"", 1, len, out);
	if (len > 0 && bytes[len - 1] != '\n')
		fputc('\n', out);
	if (is(truncated, "yes"))
		fputs("[truncated: hem kept only the first OUTPUT_LIMIT bytes]\n", out);
	return 0;
}

int hb_record_print(FILE *out, const hb_record *r, hb_error *err)
{
	char title[128], start[64], end[64], dur[64], exec[160], after[64];
	size_t klen;
	hb_autofree char *key = NULL;

	if (r->event_key != NULL) {
		/* State keys end in a blank that would be invisible. */
		key = strdup(r->event_key);
		if (key == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		klen = strlen(key);
		while (klen > 0 && key[klen - 1] == ' ')
			key[--klen] = '\0';
	}
	snprintf(title, sizeof(title), "HOOK %s EXECUTION %s", r->hook_id, r->exec_id);
	hb_output_section(out, 1, title);
	hb_output_field(out, "EXECUTION ID", r->exec_id);
	hb_output_field(out, "HOOK ID", r->hook_id);
	hb_output_field(out, "TIMESTAMP", epoch(r->timestamp, HB_DATE_LONG, start, sizeof(start)));
	hb_output_field(out, "END", epoch(r->end_timestamp, HB_DATE_LONG, end, sizeof(end)));
	hb_output_field(out, "COMMAND", r->command);
	hb_output_field(out, "ARGUMENTS", r->arguments);
	hb_output_field(out, "EXIT CODE", hb_record_rc(r));
	hb_output_field(out, "EXECUTION", hb_record_execution(r, exec, sizeof(exec)));
	hb_output_field(out, "DURATION", duration(r, dur, sizeof(dur)));
	hb_output_field(out, "TIMED OUT", r->timed_out ? r->timed_out : "no");
	hb_output_field(out, "SIGNAL", r->signal);
	hb_output_field(out, "REMOTE HOST", r->remote_host && r->remote_host[0] ? r->remote_host : "-");
	hb_output_field(out, "EVENT", key);
	hb_output_field(out, "EVENT SEQ", r->seq);
	hb_output_field(out, "RETRY OF", r->retry_of);
	hb_output_field(out, "ATTEMPT", r->attempt);
	hb_output_field(out, "BLOCKING", r->blocking ? r->blocking : "no");
	if (r->verdict != NULL)
		hb_output_field(out, "VERDICT", r->verdict);
	if (r->run_after != NULL)
		hb_output_field(out, "NOT BEFORE", epoch(r->run_after, HB_DATE_LONG, after, sizeof(after)));
	if (print_output(out, "STDOUT", r->stdout_b64, r->stdout_truncated, err) < 0)
		return err->code;
	return print_output(out, "STDERR", r->stderr_b64, r->stderr_truncated, err);
}
