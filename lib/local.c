/* local.c -- a daemon's local socket: an AF_UNIX SOCK_SEQPACKET listener whose clients each send one request. */
#include "local.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "localproto.h"
#include "log.h"

/* One accepted connection and what it has sent so far. */
struct conn {
	int fd;
	char *buf;
	size_t len, cap, total;   /* total: announced by the header, 0 until it came */
	int64_t deadline;
};

struct hb_local {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
	size_t max_request;
	struct conn conn[HB_LOCAL_CONNS_MAX];
	size_t nconn;
	int polled[1 + HB_LOCAL_CONNS_MAX];   /* item i: -1 the listener, else a connection's index */
	char packet[HB_LOCAL_CHUNK];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a live process listens on the socket file at sa: a refused
 * connection means the file was left by a dead one. */
static bool socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
	close(fd);
	return live;
}

int hb_local_open(const char *endpoint, size_t max_request, hb_local **out, hb_error *err)
{
	const char *path = hb_local_path(endpoint);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	hb_local *l;
	int rc;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
		return hb_error_set(err, -HB_EINVAL, "%s is not unix:// and an absolute path of at most %zu bytes",
				    endpoint, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = hb_mkdir_parent(path, 0750, err);
	if (rc < 0)
		return rc;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return hb_error_set(err, -HB_EINVAL, "%s exists and is not a socket", path);
		if (socket_live(&sa))
			return hb_error_set(err, -HB_EPERM, "%s is in use by a running process", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return hb_error_set(err, -HB_EIO, "cannot remove the stale socket %s: %s", path, strerror(errno));
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL || (l->path = strdup(path)) == NULL) {
		free(l);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	l->max_request = max_request;
	l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0) {
		rc = hb_error_set(err, -HB_EIO, "cannot create a socket: %s", strerror(errno));
	} else if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = hb_error_set(err, -HB_EIO, "cannot bind %s: %s", endpoint, strerror(errno));
	} else if (stat(path, &st) < 0 || chmod(path, 0660) < 0) {
		rc = hb_error_set(err, -HB_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
		unlink(path);
	} else if (listen(l->fd, 128) < 0) {
		rc = hb_error_set(err, -HB_EIO, "cannot listen on %s: %s", endpoint, strerror(errno));
		unlink(path);
	} else {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
		*out = l;
		return 0;
	}
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l);
	return rc;
}

/* Forgets connection i (closing its fd when close_fd), moving the last one into its slot. */
static void conn_drop(hb_local *l, size_t i, bool close_fd)
{
	if (close_fd)
		close(l->conn[i].fd);
	free(l->conn[i].buf);
	l->conn[i] = l->conn[--l->nconn];
}

void hb_local_close(hb_local *l)
{
	struct stat st;

	if (l == NULL)
		return;
	while (l->nconn > 0)
		conn_drop(l, 0, true);
	close(l->fd);
	if (stat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
		unlink(l->path);
	free(l->path);
	free(l);
}

size_t hb_local_pollitems(hb_local *l, zmq_pollitem_t *items)
{
	size_t n = 0;

	if (l->nconn < HB_LOCAL_CONNS_MAX) {
		l->polled[n] = -1;
		items[n++] = (zmq_pollitem_t){ .fd = l->fd, .events = ZMQ_POLLIN };
	}
	for (size_t i = 0; i < l->nconn; i++) {
		if (l->conn[i].total != 0 && l->conn[i].len == l->conn[i].total)
			continue;
		l->polled[n] = (int)i;
		items[n++] = (zmq_pollitem_t){ .fd = l->conn[i].fd, .events = ZMQ_POLLIN };
	}
	return n;
}

/* Answers ERROR why on connection i and forgets it. */
static void conn_refuse(hb_local *l, size_t i, const char *why)
{
	char line[HB_ERROR_MAX + 16];
	hb_error err = { 0 };

	hb_log(HB_LOG_WARN, "local socket: request refused: %s", why);
	snprintf(line, sizeof(line), "ERROR %s", why);
	hb_local_answer(l->conn[i].fd, line, &err);
	conn_drop(l, i, false);
}

/* Adds n bytes of one packet to connection c's request; returns a negative
 * code (err says why) when the request cannot be right. */
static int conn_append(hb_local *l, struct conn *c, const char *data, size_t n, hb_error *err)
{
	if (c->total == 0) {
		if (hb_local_peek(data, n, &c->total, err) < 0)
			return err->code;
		if (c->total > l->max_request)
			return hb_error_set(err, -HB_ETOOBIG, "request of %zu bytes is larger than the %zu accepted",
					    c->total, l->max_request);
	}
	if (n > c->total - c->len)
		return hb_error_set(err, -HB_EINVAL, "request longer than the %zu bytes it announced", c->total);
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : HB_LOCAL_CHUNK;
		char *nb;
		while (cap < c->len + n)
			cap *= 2;
		if (cap > c->total)
			cap = c->total;
		nb = realloc(c->buf, cap);
		if (nb == NULL)
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	return 0;
}

/* Reads every packet waiting on connection i.  Returns false when the
 * connection was forgotten (closed by the client, or refused). */
static bool conn_read(hb_local *l, size_t i)
{
	struct conn *c = &l->conn[i];
	hb_error err = { 0 };

	while (c->total == 0 || c->len < c->total) {
		ssize_t n = recv(c->fd, l->packet, sizeof(l->packet), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {   /* the client left (or sent an empty packet, which no request is) */
			conn_drop(l, i, true);
			return false;
		}
		if ((size_t)n > sizeof(l->packet)) {
			hb_error_set(&err, -HB_EINVAL, "packet of %zd bytes (at most %d)", n, HB_LOCAL_CHUNK);
		} else if (conn_append(l, c, l->packet, (size_t)n, &err) == 0) {
			c->deadline = now_ms() + HB_LOCAL_IDLE_MS;
			continue;
		}
		conn_refuse(l, i, err.msg);
		return false;
	}
	return true;
}

/* Accepts what connections the listener has, as long as there is room. */
static void accept_all(hb_local *l)
{
	while (l->nconn < HB_LOCAL_CONNS_MAX) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				hb_log(HB_LOG_WARN, "local socket: accept failed: %s", strerror(errno));
			return;
		}
		l->conn[l->nconn++] = (struct conn){ .fd = fd, .deadline = now_ms() + HB_LOCAL_IDLE_MS };
	}
}

void hb_local_handle(hb_local *l, const zmq_pollitem_t *items, size_t n)
{
	int64_t now;

	/* Connections are read from the highest index down, so that a drop
	 * (which moves the last one into the freed slot) never moves one that
	 * is still to be read. */
	for (size_t k = n; k-- > 0;) {
		int i = l->polled[k];
		if (i >= 0 && (items[k].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
			conn_read(l, (size_t)i);
	}
	if (n > 0 && l->polled[0] == -1 && (items[0].revents & ZMQ_POLLIN))
		accept_all(l);
	now = now_ms();
	for (size_t i = l->nconn; i-- > 0;) {
		struct conn *c = &l->conn[i];
		if ((c->total == 0 || c->len < c->total) && c->deadline <= now)
			conn_refuse(l, i, "no whole request within 5 s");
	}
}

int hb_local_take(hb_local *l, int *fd, char **buf, size_t *len)
{
	for (size_t i = 0; i < l->nconn; i++) {
		struct conn *c = &l->conn[i];
		if (c->total == 0 || c->len < c->total)
			continue;
		*fd = c->fd;
		*buf = c->buf;
		*len = c->len;
		c->buf = NULL;
		conn_drop(l, i, false);
		return 1;
	}
	return 0;
}

int hb_local_wait_ms(const hb_local *l, int max_ms)
{
	int64_t now = now_ms(), wait = max_ms;

	for (size_t i = 0; i < l->nconn; i++) {
		const struct conn *c = &l->conn[i];
		if (c->total != 0 && c->len == c->total)
			return 0;
		if (c->deadline - now < wait)
			wait = c->deadline - now;
	}
	return wait < 0 ? 0 : (int)wait;
}

int hb_local_answer(int fd, const char *line, hb_error *err)
{
	int rc = 0;

	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		rc = hb_error_set(err, -HB_EIO, "answer lost: %s", strerror(errno));
	close(fd);
	return rc;
}
