/* wait.c -- the end of emit and oci-hook without libzmq: the answer said, and with --wait hem's verdict asked on its local socket and turned into an exit status. */
#include "wait.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "ctlendpoint.h"
#include "localclient.h"

#define HEM_MARGIN_MS 50   /* hem answers "timeout" this much before the client gives up */

int64_t hb_emit_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *hb_wait_endpoint(const char *flag)
{
	const char *env = getenv("HOOKBUS_ENDPOINT");

	if (flag != NULL)
		return flag;
	return env != NULL && env[0] != '\0' ? env : HB_CTL_DEFAULT_ENDPOINT;
}

/* A new one-line copy of s (len bytes): line breaks and other control
 * characters become blanks, trailing blanks go. */
static char *one_line(const char *s, size_t len)
{
	char *out = strndup(s, len);

	if (out == NULL)
		return NULL;
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (len = strlen(out); len > 0 && out[len - 1] == ' ';)
		out[--len] = '\0';
	return out;
}

hb_verdict_kind hb_verdict_read(const char *payload, int timeout_ms, char **why)
{
	const char *nl = strchr(payload, '\n');
	const char *rest = nl ? nl + 1 : "";
	size_t head = nl ? (size_t)(nl - payload) : strlen(payload);
	hb_autofree char *reason = one_line(rest, strlen(rest));
	long long hook_id, exec_id;
	int name_at = 0;

	*why = NULL;
	if (head >= 5 && strncmp(payload, "allow", 5) == 0 && (head == 5 || payload[5] == ' '))
		return HB_VERDICT_ALLOW;
	if (reason == NULL)
		return HB_VERDICT_UNKNOWN;
	if (head > 7 && strncmp(payload, "refuse ", 7) == 0 &&
	    sscanf(payload, "refuse %lld %lld %n", &hook_id, &exec_id, &name_at) == 2 && name_at > 0) {
		hb_autofree char *name = one_line(payload + name_at, head > (size_t)name_at ? head - (size_t)name_at : 0);
		if (name != NULL && asprintf(why, "refused by hook %lld%s%s%s execution %lld: %s", hook_id,
					     name[0] ? " (" : "", name, name[0] ? ")" : "", exec_id, reason) < 0)
			*why = NULL;
		return HB_VERDICT_REFUSE;
	}
	if (head == 7 && strncmp(payload, "timeout", 7) == 0) {
		if (asprintf(why, "no verdict from hem within %d ms: %s", timeout_ms, reason) < 0)
			*why = NULL;
		return HB_VERDICT_UNKNOWN;
	}
	if (asprintf(why, "malformed VERDICT answer from hem: '%.64s'", payload) < 0)
		*why = NULL;
	return HB_VERDICT_UNKNOWN;
}

int hb_wait_hem_ms(int timeout_ms)
{
	return timeout_ms > 2 * HEM_MARGIN_MS ? timeout_ms - HEM_MARGIN_MS : timeout_ms / 2;
}

hb_verdict_kind hb_wait_verdict_local(const char *flag, uint64_t seq, int timeout_ms, char **why)
{
	const char *endpoint = hb_wait_endpoint(flag);
	char seq_s[32], ms_s[32], answer[HB_LOCAL_ANSWER_MAX + 1];
	char *argv[] = { "VERDICT", seq_s, ms_s, NULL };
	hb_local_request r = { .argc = 3, .argv = argv };
	hb_error err = { 0 };

	*why = NULL;
	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	snprintf(ms_s, sizeof(ms_s), "%d", hb_wait_hem_ms(timeout_ms));
	if (hb_local_call(endpoint, &r, timeout_ms > 0 ? timeout_ms : 1, answer, &err) < 0) {
		if (asprintf(why, "no verdict from hem: %s", err.msg) < 0)
			*why = NULL;
		return HB_VERDICT_UNKNOWN;
	}
	if (strncmp(answer, "OK ", 3) == 0)
		return hb_verdict_read(answer + 3, timeout_ms, why);
	if (strncmp(answer, "ERROR ", 6) != 0 || asprintf(why, "no verdict from hem: %s", answer + 6) < 0) {
		if (asprintf(why, "malformed answer from hem's local socket: '%.64s'", answer) < 0)
			*why = NULL;
	}
	return HB_VERDICT_UNKNOWN;
}

/* Milliseconds left of timeout_ms since start_ms, at least 1. */
static int left_ms(int timeout_ms, int64_t start_ms)
{
	int64_t left = timeout_ms - (hb_emit_clock_ms() - start_ms);

	return left > 0 ? (int)left : 1;
}

/* The --wait of emit: fetch's verdict on seq, said on stderr. */
static int emit_wait(const hb_emit_args *a, uint64_t seq, int64_t start_ms, hb_verdict_fetch *fetch)
{
	hb_autofree char *why = NULL;
	hb_verdict_kind v = fetch(a->hem_endpoint, seq, left_ms(a->timeout_ms, start_ms), &why);

	if (v == HB_VERDICT_ALLOW)
		return HB_EXIT_OK;
	if (v == HB_VERDICT_REFUSE) {
		fprintf(stderr, "hm-publisher emit: seq %" PRIu64 " %s\n", seq, why ? why : "refused (out of memory)");
		return HB_EXIT_DENIED;
	}
	if (a->fail_closed) {
		fprintf(stderr, "hm-publisher emit: seq %" PRIu64 ": %s (--fail-closed: counted as refused)\n", seq,
			why ? why : "no verdict");
		return HB_EXIT_NO_VERDICT;
	}
	fprintf(stderr, "hm-publisher emit: warning: seq %" PRIu64 ": %s (fail-open: counted as allowed)\n", seq,
		why ? why : "no verdict");
	return HB_EXIT_OK;
}

int hb_emit_finish(const hb_emit_args *a, int rc, uint64_t seq, const char *why, int64_t start_ms,
		   hb_verdict_fetch *fetch)
{
	if (rc < 0) {
		fprintf(stderr, "hm-publisher emit: %s\n", why);
		if (rc == -HB_EINVAL)
			fputs("Try 'hm-publisher emit --help'.\n", stderr);
		return hb_emit_status(rc);
	}
	if (!a->quiet) {
		printf("%" PRIu64 "\n", seq);
		fflush(stdout);
	}
	return a->wait ? emit_wait(a, seq, start_ms, fetch) : HB_EXIT_OK;
}

int hb_oci_hook_wait(const hb_oci_hook_args *a, const char *id, uint64_t seq, int64_t start_ms,
		     hb_verdict_fetch *fetch)
{
	hb_autofree char *why = NULL;
	char what[512];
	hb_verdict_kind v = fetch(a->hem_endpoint, seq, left_ms(a->timeout_ms, start_ms), &why);

	if (v == HB_VERDICT_ALLOW)
		return HB_EXIT_OK;
	if (v == HB_VERDICT_REFUSE) {
		fprintf(stderr, "hm-publisher oci-hook: container %s (%s, seq %" PRIu64 ") %s\n", id, a->stage->state,
			seq, why ? why : "refused (out of memory)");
		return HB_EXIT_DENIED;
	}
	snprintf(what, sizeof(what), "%s event of container %s (seq %" PRIu64 ")", a->stage->state, id, seq);
	return hb_oci_hook_give_up(a, what, why ? why : "no verdict", HB_EXIT_NO_VERDICT);
}
