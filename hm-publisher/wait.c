/* wait.c -- `--wait` of emit and oci-hook: after the ACK, hem's verdict on the event's blocking hooks. */
#include "wait.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ctlclient.h"

#define HEM_MARGIN_MS 50   /* hem answers "timeout" this much before the client gives up */

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

/* Turns hem's answer to VERDICT into a kind and *why. */
static hb_verdict_kind read_answer(const char *payload, int timeout_ms, char **why)
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

hb_verdict_kind hb_wait_verdict(const char *flag, uint64_t seq, int timeout_ms, char **why)
{
	hb_autofree char *endpoint = NULL;
	hb_autofree char *payload = NULL;
	char seq_s[32], ms_s[32];
	hb_ctl *c = NULL;
	hb_error err = { 0 };
	size_t len;
	int hem_ms = timeout_ms > 2 * HEM_MARGIN_MS ? timeout_ms - HEM_MARGIN_MS : timeout_ms / 2;
	int rc;

	*why = NULL;
	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	snprintf(ms_s, sizeof(ms_s), "%d", hem_ms);
	rc = hb_ctl_endpoint(flag, NULL, &endpoint, &err);
	if (rc == 0)
		rc = hb_ctl_new(endpoint, timeout_ms > 0 ? timeout_ms : 1, &c, &err);
	if (rc == 0)
		rc = hb_ctl_call(c, (const char *const[]){ "VERDICT", seq_s, ms_s, NULL }, &payload, &len, &err);
	hb_ctl_free(c);
	if (rc < 0) {
		if (asprintf(why, "no verdict from hem: %s", err.msg) < 0)
			*why = NULL;
		return HB_VERDICT_UNKNOWN;
	}
	return read_answer(payload, timeout_ms, why);
}
