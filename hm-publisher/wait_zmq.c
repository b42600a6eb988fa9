/* wait_zmq.c -- `--wait` in hm-publisher-core: hem's verdict over its ZeroMQ control endpoint, or its local socket. */
#include "wait.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"
#include "ctlclient.h"
#include "localproto.h"

hb_verdict_kind hb_wait_verdict(const char *flag, uint64_t seq, int timeout_ms, char **why)
{
	const char *endpoint = hb_wait_endpoint(flag);
	hb_autofree char *payload = NULL;
	char seq_s[32], ms_s[32];
	hb_ctl *c = NULL;
	hb_error err = { 0 };
	size_t len;
	int rc;

	if (hb_local_path(endpoint) != NULL)
		return hb_wait_verdict_local(flag, seq, timeout_ms, why);
	*why = NULL;
	snprintf(seq_s, sizeof(seq_s), "%" PRIu64, seq);
	snprintf(ms_s, sizeof(ms_s), "%d", hb_wait_hem_ms(timeout_ms));
	rc = hb_ctl_new(endpoint, timeout_ms > 0 ? timeout_ms : 1, &c, &err);
	if (rc == 0)
		rc = hb_ctl_call(c, (const char *const[]){ "VERDICT", seq_s, ms_s, NULL }, &payload, &len, &err);
	hb_ctl_free(c);
	if (rc < 0) {
		if (asprintf(why, "no verdict from hem: %s", err.msg) < 0)
			*why = NULL;
		return HB_VERDICT_UNKNOWN;
	}
	return hb_verdict_read(payload, timeout_ms, why);
}
