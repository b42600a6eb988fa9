/* local.h -- a daemon's local socket (LOCAL_ENDPOINT of the publisher and of hem): accepts connections and gathers one request from each. */
#ifndef HB_LOCAL_H
#define HB_LOCAL_H

#include <stddef.h>

#include <zmq.h>

#include "error.h"

#define HB_LOCAL_CONNS_MAX 256    /* connections open at once; more wait in the backlog */
#define HB_LOCAL_IDLE_MS 5000     /* a connection without its whole request by then is dropped */

typedef struct hb_local hb_local;

/*
 * Listens on the AF_UNIX SOCK_SEQPACKET socket of endpoint (unix://PATH,
 * PATH absolute) for requests of at most max_request bytes.  The directory
 * is created 0750 when missing and the socket file is made 0660, as for the
 * ipc command endpoints.  A socket file left by a dead daemon is replaced;
 * one a live process listens on is -HB_EPERM, and a path that exists but is
 * not a socket -HB_EINVAL.  *out is freed with hb_local_close().
 */
int hb_local_open(const char *endpoint, size_t max_request, hb_local **out, hb_error *err);

/* Closes the listener and every connection, and removes the socket file
 * when it is still the one this daemon made; accepts NULL. */
void hb_local_close(hb_local *l);

/* Fills items (room for 1 + HB_LOCAL_CONNS_MAX) with what the poll loop
 * must watch: the listener while connections may still be accepted, and
 * every connection whose request is incomplete.  Returns the count. */
size_t hb_local_pollitems(hb_local *l, zmq_pollitem_t *items);

/* After the poll: accepts new connections, reads the packets that arrived
 * (a malformed, oversized or overlong request is answered ERROR and
 * closed), and drops connections idle for HB_LOCAL_IDLE_MS.  items and n
 * are what hb_local_pollitems() filled. */
void hb_local_handle(hb_local *l, const zmq_pollitem_t *items, size_t n);

/* Hands over one complete request: the connection *fd (answer it with
 * hb_local_answer()) and the request's bytes *buf (the caller frees them)
 * and *len.  Returns 1, or 0 when none is complete. */
int hb_local_take(hb_local *l, int *fd, char **buf, size_t *len);

/* How long the poll loop may sleep, at most max_ms: 0 when a complete
 * request waits, else until the next idle deadline. */
int hb_local_wait_ms(const hb_local *l, int max_ms);

/* Sends the one-line answer on fd (a client that left is no error) and
 * closes it; returns 0, or a negative code with the reason in err when the
 * answer was lost. */
int hb_local_answer(int fd, const char *line, hb_error *err);

#endif
