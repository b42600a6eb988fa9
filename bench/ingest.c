/* ingest.c -- publisher ingest benchmark: EMIT->ACK->published rate from several REQ clients,
 * and the raw libzmq PUB->SUB rate of the same two-frame messages as its baseline. */
#include <inttypes.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "base64.h"
#include "probe.h"

static void *ctx;
static char *content;        /* base64 HOOK_MESSAGE */
static size_t content_len;
static const char KEY[] = "EVENT API one.bench.ingest 1";

/* Builds an API HOOK_MESSAGE of about size decoded bytes and its base64. */
static void make_content(size_t size)
{
	const char *head = "<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>one.bench.ingest</CALL><CALL_INFO>"
			   "<RESULT>1</RESULT><PARAMETERS><PARAMETER><POSITION>1</POSITION><TYPE>IN</TYPE><VALUE>";
	const char *tail = "</VALUE></PARAMETER></PARAMETERS></CALL_INFO></HOOK_MESSAGE>";
	size_t fixed = strlen(head) + strlen(tail);
	size_t pad = size > fixed ? size - fixed : 1;
	char *xml = malloc(fixed + pad + 1);

	strcpy(xml, head);
	memset(xml + strlen(head), 'x', pad);
	strcpy(xml + strlen(head) + pad, tail);
	content = hb_base64_encode(xml, strlen(xml), &content_len);
	free(xml);
}

struct client {
	const char *endpoint;
	long count;
	long window;      /* requests in flight: 1 is a REQ client, more a pipelining DEALER */
	long failed;
};

/* Sends c->count EMITs with up to c->window of them awaiting their ACK. */
static void *client_run(void *arg)
{
	struct client *c = arg;
	void *s = zmq_socket(ctx, c->window > 1 ? ZMQ_DEALER : ZMQ_REQ);
	long sent = 0, acked = 0;
	char reply[256];

	zmq_connect(s, c->endpoint);
	while (acked < c->count) {
		while (sent < c->count && sent - acked < c->window) {
			zmq_send(s, "EMIT", 4, ZMQ_SNDMORE);
			zmq_send(s, content, content_len, 0);
			sent++;
		}
		int n = zmq_recv(s, reply, sizeof(reply) - 1, 0);
		if (n < 4 || memcmp(reply, "ACK ", 4) != 0)
			c->failed++;
		acked++;
	}
	zmq_close(s);
	return NULL;
}

/* Receives until count messages (two frames each) arrived; returns when. */
static int64_t sub_wait(void *sub, long count)
{
	zmq_msg_t m;
	long got = 0;

	zmq_msg_init(&m);
	while (got < count) {
		if (zmq_msg_recv(&m, sub, 0) < 0)
			probe_zmq_die("ingest", "recv");
		if (!zmq_msg_more(&m))
			got++;
	}
	zmq_msg_close(&m);
	return probe_ns(CLOCK_MONOTONIC);
}

/* Whether a probe reached sub (whose receive timeout is set): then reads
 * everything waiting, so that measuring starts from an empty socket. */
static bool sub_drained(void *sub)
{
	zmq_msg_t m;
	bool got;

	zmq_msg_init(&m);
	got = zmq_msg_recv(&m, sub, 0) >= 0;
	while (got && zmq_msg_recv(&m, sub, 0) >= 0)
		;
	zmq_msg_close(&m);
	return got;
}

static void *sub_new(const char *endpoint)
{
	void *sub = zmq_socket(ctx, ZMQ_SUB);
	int zero = 0;

	zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof(zero));
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "EVENT API one.bench.", 20);
	if (zmq_connect(sub, endpoint) != 0)
		probe_zmq_die("ingest", endpoint);
	return sub;
}

/* The bus: clients REQ clients share count EMITs; a SUB counts what is published. */
static void bench_bus(const char *cmd, const char *pub, long clients, long count, long window)
{
	void *sub = sub_new(pub);
	void *probe = zmq_socket(ctx, ZMQ_REQ);
	pthread_t th[64];
	struct client cl[64];
	char reply[256];
	int timeout = 100;
	int64_t t0, t1;
	long failed = 0;

	/* Past the slow-joiner window: probe until the subscriber sees one. */
	zmq_connect(probe, cmd);
	for (;;) {
		zmq_send(probe, "EMIT", 4, ZMQ_SNDMORE);
		zmq_send(probe, content, content_len, 0);
		zmq_recv(probe, reply, sizeof(reply), 0);
		zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
		if (sub_drained(sub))
			break;
	}
	zmq_close(probe);
	timeout = -1;
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	if (clients > 64)
		clients = 64;
	t0 = probe_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < clients; i++) {
		cl[i] = (struct client){ .endpoint = cmd, .count = count / clients, .window = window };
		pthread_create(&th[i], NULL, client_run, &cl[i]);
	}
	t1 = sub_wait(sub, (count / clients) * clients);
	for (long i = 0; i < clients; i++) {
		pthread_join(th[i], NULL);
		failed += cl[i].failed;
	}
	zmq_close(sub);
	printf("bus_rate %.1f failed %ld\n", (double)((count / clients) * clients) / ((double)(t1 - t0) / 1e9), failed);
}

/* The baseline: one PUB sends the same frames straight to a SUB over loopback TCP. */
static void bench_raw(long count)
{
	void *pub = zmq_socket(ctx, ZMQ_PUB);
	int zero = 0, timeout = 100;
	char endpoint[256];
	size_t len = sizeof(endpoint);
	void *sub;
	int64_t t0, t1;

	zmq_setsockopt(pub, ZMQ_SNDHWM, &zero, sizeof(zero));
	if (zmq_bind(pub, "tcp://127.0.0.1:*") != 0)
		probe_zmq_die("ingest", "bind");
	zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, endpoint, &len);
	sub = sub_new(endpoint);
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	for (;;) {
		zmq_send(pub, KEY, strlen(KEY), ZMQ_SNDMORE);
		zmq_send(pub, content, content_len, 0);
		if (sub_drained(sub))
			break;
	}
	timeout = -1;
	zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	t0 = probe_ns(CLOCK_MONOTONIC);
	for (long i = 0; i < count; i++) {
		zmq_send(pub, KEY, strlen(KEY), ZMQ_SNDMORE);
		zmq_send(pub, content, content_len, 0);
	}
	t1 = sub_wait(sub, count);
	zmq_close(sub);
	zmq_close(pub);
	printf("raw_rate %.1f\n", (double)count / ((double)(t1 - t0) / 1e9));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: ingest bus CMD_ENDPOINT PUB_ENDPOINT CLIENTS COUNT SIZE [WINDOW]\n"
				"       ingest raw COUNT SIZE\n");
		return 2;
	}
	ctx = zmq_ctx_new();
	if (strcmp(argv[1], "bus") == 0 && (argc == 7 || argc == 8)) {
		make_content((size_t)atol(argv[6]));
		bench_bus(argv[2], argv[3], atol(argv[4]), atol(argv[5]), argc == 8 ? atol(argv[7]) : 1);
	} else if (strcmp(argv[1], "raw") == 0 && argc == 4) {
		make_content((size_t)atol(argv[3]));
		bench_raw(atol(argv[2]));
	} else {
		fprintf(stderr, "ingest: bad arguments\n");
		return 2;
	}
	free(content);
	zmq_ctx_term(ctx);
	return 0;
}
