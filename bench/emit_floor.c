/* emit_floor.c -- the floor under a one-shot emitter: a program linked with libzmq alone that sends
 * one EMIT of a ready base64 HOOK_MESSAGE (argv[2]) to argv[1] on a REQ socket and waits for ACK. */
#include <stdio.h>
#include <string.h>

#include <zmq.h>

int main(int argc, char **argv)
{
	void *ctx, *s;
	char reply[256];
	int linger = 0, n;

	if (argc != 3) {
		fprintf(stderr, "usage: emit_floor ENDPOINT BASE64\n");
		return 2;
	}
	ctx = zmq_ctx_new();
	s = zmq_socket(ctx, ZMQ_REQ);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_connect(s, argv[1]);
	zmq_send(s, "EMIT", 4, ZMQ_SNDMORE);
	zmq_send(s, argv[2], strlen(argv[2]), 0);
	n = zmq_recv(s, reply, sizeof(reply), 0);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return n >= 4 && memcmp(reply, "ACK ", 4) == 0 ? 0 : 1;
}
