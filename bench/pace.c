/* pace.c -- the paced load of the latency and overload benchmarks: EMITs at a fixed rate from one DEALER, each ACK's time printed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "probe.h"

/*
 * hb-bench-pace ENDPOINT RATE SECONDS CONTENT: sends RATE x SECONDS EMITs of
 * CONTENT (a base64 HOOK_MESSAGE) to the publisher's command endpoint, each
 * when it is due, without waiting for the ACKs in between (a DEALER), and
 * sleeps until the next is due: a generator written in Python took a fifth of
 * a core at 1,000 events/s from the daemons it loads.  At the end it prints
 * one line per ACK, "<seq> <CLOCK_REALTIME ns of its arrival>"; an answer
 * that is not an ACK, or 30 s without one once all are sent, ends it with
 * status 1.
 */

#define QUIET_NS (30 * 1000000000LL)

struct ack {
	uint64_t seq;
	int64_t ns;
};

/* Reads every answer waiting on s into acks (at *n, at most max). */
static void take_answers(void *s, struct ack *acks, long *n, long max)
{
	char buf[128];

	for (;;) {
		int more = 1, len = -1;
		size_t sz = sizeof(more);

		while (more) {   /* the empty delimiter frame, then the answer */
			len = zmq_recv(s, buf, sizeof(buf) - 1, ZMQ_DONTWAIT);
			if (len < 0) {
				if (zmq_errno() == EAGAIN)
					return;
				probe_zmq_die("hb-bench-pace", "recv");
			}
			zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
		}
		buf[len < (int)sizeof(buf) - 1 ? len : (int)sizeof(buf) - 1] = '\0';
		if (strncmp(buf, "ACK ", 4) != 0) {
			fprintf(stderr, "hb-bench-pace: EMIT refused: %s\n", buf);
			exit(1);
		}
		if (*n < max)
			acks[(*n)++] = (struct ack){ strtoull(buf + 4, NULL, 10), probe_ns(CLOCK_REALTIME) };
	}
}

int main(int argc, char **argv)
{
	void *ctx, *s;
	double rate, seconds;
	long total, sent = 0, n = 0;
	struct ack *acks;
	int64_t t0, last;
	int zero = 0;

	if (argc != 5 || (rate = atof(argv[2])) <= 0 || (seconds = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: hb-bench-pace ENDPOINT RATE SECONDS CONTENT\n");
		return 2;
	}
	total = (long)(rate * seconds);
	acks = calloc((size_t)total + 1, sizeof(*acks));
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_DEALER);
	if (acks == NULL || s == NULL)
		probe_zmq_die("hb-bench-pace", "setup");
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
	if (zmq_connect(s, argv[1]) < 0)
		probe_zmq_die("hb-bench-pace", "connect");
	t0 = last = probe_ns(CLOCK_MONOTONIC);
	while (n < total) {
		long before = n;
		long due = (long)((double)(probe_ns(CLOCK_MONOTONIC) - t0) / 1e9 * rate) + 1;
		int64_t next_ns, wait_ms;
		zmq_pollitem_t item = { .socket = s, .events = ZMQ_POLLIN };

		if (due > total)
			due = total;
		for (; sent < due; sent++)
			if (zmq_send(s, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(s, "EMIT", 4, ZMQ_SNDMORE) < 0 ||
			    zmq_send(s, argv[4], strlen(argv[4]), 0) < 0)
				probe_zmq_die("hb-bench-pace", "send");
		/* Until the next EMIT is due, rounded up to the millisecond. */
		next_ns = t0 + (int64_t)((double)sent / rate * 1e9);
		wait_ms = sent < total ? (next_ns - probe_ns(CLOCK_MONOTONIC) + 999999) / 1000000 : 1000;
		if (zmq_poll(&item, 1, wait_ms > 0 ? (long)wait_ms : 0) < 0 && zmq_errno() != EINTR)
			probe_zmq_die("hb-bench-pace", "poll");
		take_answers(s, acks, &n, total);
		if (n > before || sent < total)
			last = probe_ns(CLOCK_MONOTONIC);
		else if (probe_ns(CLOCK_MONOTONIC) - last > QUIET_NS) {
			fprintf(stderr, "hb-bench-pace: no ACK for 30 s: %ld of %ld acknowledged\n", n, total);
			exit(1);
		}
	}
	for (long i = 0; i < n; i++)
		printf("%" PRIu64 " %" PRId64 "\n", acks[i].seq, acks[i].ns);
	zmq_close(s);
	zmq_ctx_term(ctx);
	free(acks);
	return 0;
}
