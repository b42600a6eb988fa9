/* localsock.c -- hem's local socket (LOCAL_ENDPOINT): VERDICT for the one-shot hooks that cannot afford libzmq. */
#include "hem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlparse.h"
#include "localproto.h"
#include "log.h"

void hem_local_reply(int fd, bool ok, const char *payload)
{
	char answer[HB_LOCAL_ANSWER_MAX + 1];
	hb_error err = { 0 };

	snprintf(answer, sizeof(answer), "%s %s", ok ? "OK" : "ERROR", payload);
	if (hb_local_answer(fd, answer, &err) < 0)
		hb_log(HB_LOG_DEBUG, "local socket: %s", err.msg);
}

/* Answers the request buf (len bytes) of connection fd: a VERDICT waits
 * in verdict.c, anything else is refused at once. */
static void local_one(struct hem *h, int fd, const char *buf, size_t len)
{
	hb_local_request r = { 0 };
	hem_ctl_request q;
	hb_error err = { 0 };
	size_t lens[3];
	int rc = hb_local_decode(buf, len, &r, &err);

	if (rc == 0 && (r.argc != 3 || strcmp(r.argv[0], "VERDICT") != 0))
		rc = hb_error_set(&err, -HB_EINVAL, "hem's local socket answers VERDICT <seq> <timeout-ms> only");
	for (int i = 0; rc == 0 && i < r.argc; i++)
		lens[i] = strlen(r.argv[i]);
	if (rc == 0)
		rc = hem_ctl_parse((const char *const *)r.argv, lens, (size_t)r.argc, &q, &err);
	if (rc == 0)
		rc = hem_verdict_request_local(h, fd, q.seq, q.timeout_ms, &err);
	hb_local_request_clear(&r);
	if (rc < 0) {
		hb_log(HB_LOG_INFO, "local socket: request refused: %s", err.msg);
		hem_local_reply(fd, false, err.msg);
	}
}

void hem_local_handle(struct hem *h)
{
	char *buf;
	size_t len;
	int fd;

	while (hb_local_take(h->local, &fd, &buf, &len) == 1) {
		local_one(h, fd, buf, len);
		free(buf);
	}
}
