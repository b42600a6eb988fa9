/* localclient.c -- sends one request to a daemon's local socket (AF_UNIX SOCK_SEQPACKET) and reads its one answer. */
#include "localclient.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "cleanup.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bounds the blocking calls on fd to ms milliseconds. */
static void set_send_timeout(int fd, int64_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Turns the answer line into the result of hb_local_send(). */
static int answer_parse(const char *endpoint, const char *line, uint64_t *seq, hb_error *err)
{
	char *end;

	if (strncmp(line, "ACK ", 4) == 0) {
		errno = 0;
		*seq = strtoull(line + 4, &end, 10);
		if (errno != 0 || *end != '\0' || line[4] < '0' || line[4] > '9')
			return hb_error_set(err, -HB_EIO, "malformed answer from %s: %s", endpoint, line);
		return 0;
	}
	if (strncmp(line, "ERROR ", 6) == 0)
		return hb_error_set(err, -HB_EPERM, "refused by the publisher: %s", line + 6);
	if (strncmp(line, "INVALID ", 8) == 0)
		return hb_error_set(err, -HB_EINVAL, "%s", line + 8);
	return hb_error_set(err, -HB_EIO, "malformed answer from %s", endpoint);
}

/* Waits until deadline for the answer on fd: its text in answer (room for
 * HB_LOCAL_ANSWER_MAX bytes and a NUL). */
static int answer_read(int fd, const char *endpoint, int64_t deadline, int timeout_ms, char *answer, hb_error *err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	for (;;) {
		int64_t left = deadline - now_ms();
		rc = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return hb_error_set(err, -HB_ETIMEDOUT, "no answer from %s within %d ms (is the daemon running?)",
					    endpoint, timeout_ms);
		n = recv(fd, answer, HB_LOCAL_ANSWER_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n <= 0)
		return hb_error_set(err, -HB_ETIMEDOUT, "%s closed the connection without an answer%s%s", endpoint,
				    n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	answer[n] = '\0';
	return 0;
}

int hb_local_call(const char *endpoint, const hb_local_request *r, int timeout_ms, char *answer, hb_error *err)
{
	const char *path = hb_local_path(endpoint);
	int64_t deadline = now_ms() + timeout_ms;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	hb_autofree char *buf = NULL;
	hb_autoclose int fd = -1;
	size_t len, off = 0;
	int rc;

	if (path == NULL || strlen(path) >= sizeof(sa.sun_path))
		return hb_error_set(err, -HB_EINVAL, "%s is not unix:// and an absolute socket path", endpoint);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = hb_local_encode(r, &buf, &len, err);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hb_error_set(err, -HB_EIO, "cannot create a socket: %s", strerror(errno));
	set_send_timeout(fd, timeout_ms);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINPROGRESS)
			return hb_error_set(err, -HB_ETIMEDOUT, "no answer from %s within %d ms (is the daemon running?)",
					    endpoint, timeout_ms);
		return hb_error_set(err, -HB_ENOENT, "cannot reach %s: %s (is the daemon running?)", endpoint,
				    strerror(errno));
	}
	while (off < len) {
		size_t chunk = len - off < HB_LOCAL_CHUNK ? len - off : HB_LOCAL_CHUNK;
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return hb_error_set(err, -HB_ETIMEDOUT, "no answer from %s within %d ms (is the daemon running?)",
					    endpoint, timeout_ms);
		set_send_timeout(fd, left);
		n = send(fd, buf + off, chunk, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return hb_error_set(err, -HB_ETIMEDOUT, "no answer from %s within %d ms (is the daemon running?)",
					    endpoint, timeout_ms);
		if (n < 0)   /* the daemon gave up on the request: its answer may say why */
			return answer_read(fd, endpoint, now_ms(), timeout_ms, answer, err);
		off += (size_t)n;
	}
	return answer_read(fd, endpoint, deadline, timeout_ms, answer, err);
}

int hb_local_send(const char *endpoint, const hb_local_request *r, int timeout_ms, uint64_t *seq, hb_error *err)
{
	char answer[HB_LOCAL_ANSWER_MAX + 1];
	int rc = hb_local_call(endpoint, r, timeout_ms, answer, err);

	return rc < 0 ? rc : answer_parse(endpoint, answer, seq, err);
}
