/* metrics_http.c -- GET /metrics over HTTP with libmicrohttpd (loaded when first served), rendered from the metric registry. */
#include "metrics_http.h"

#include <errno.h>
#include <stddef.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "dynlib.h"
#include "log.h"
#include "metrics.h"

#define CONNECTIONS_MAX 16
#define CONNECTION_TIMEOUT_S 10

struct hb_metrics_server {
	struct MHD_Daemon *mhd;
};

/* libmicrohttpd's functions, looked up by mhd_load() (see dynlib.h for why
 * the library is not linked). */
static struct {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
} mhd;

/* Loads libmicrohttpd and looks up every function this file calls. */
static int mhd_load(hb_error *err)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
		{ "MHD_start_daemon", offsetof(__typeof__(mhd), start_daemon) },
		{ "MHD_stop_daemon", offsetof(__typeof__(mhd), stop_daemon) },
		{ "MHD_create_response_from_buffer", offsetof(__typeof__(mhd), create_response_from_buffer) },
		{ "MHD_add_response_header", offsetof(__typeof__(mhd), add_response_header) },
		{ "MHD_queue_response", offsetof(__typeof__(mhd), queue_response) },
		{ "MHD_destroy_response", offsetof(__typeof__(mhd), destroy_response) },
	};

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *f;
		if (hb_dynlib_sym(HB_MHD_SONAME, syms[i].name, &f, err) < 0)
			return hb_error_prefix(err, "metrics");
		memcpy((char *)&mhd + syms[i].offset, &f, sizeof(f));
	}
	return 0;
}

/* Splits listen into host and port (both NUL-terminated copies in buf) and
 * resolves them; *out is freed with freeaddrinfo. */
static int listen_resolve(const char *listen, struct addrinfo **out, hb_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	char buf[256];
	char *host = buf, *port;
	int rc;

	if (listen == NULL || strlen(listen) >= sizeof(buf))
		return hb_error_set(err, -HB_EINVAL, "METRICS_LISTEN must be HOST:PORT");
	strcpy(buf, listen);
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL || close[1] != ':')
			return hb_error_set(err, -HB_EINVAL, "METRICS_LISTEN '%s' must be [ADDRESS]:PORT", listen);
		*close = '\0';
		host = buf + 1;
		port = close + 2;
	} else {
		port = strrchr(buf, ':');
		if (port == NULL)
			return hb_error_set(err, -HB_EINVAL, "METRICS_LISTEN '%s' must be HOST:PORT", listen);
		*port++ = '\0';
	}
	if (host[0] == '\0' || port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) > 65535)
		return hb_error_set(err, -HB_EINVAL, "METRICS_LISTEN '%s' must be HOST:PORT with a numeric port", listen);
	rc = getaddrinfo(host, port, &hints, out);
	if (rc != 0)
		return hb_error_set(err, -HB_EINVAL, "METRICS_LISTEN '%s': %s", listen, gai_strerror(rc));
	return 0;
}

int hb_metrics_listen_check(const char *listen, hb_error *err)
{
	struct addrinfo *ai = NULL;
	int rc = listen_resolve(listen, &ai, err);

	if (ai != NULL)
		freeaddrinfo(ai);
	return rc;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static const char not_found[] = "not found: try /metrics\n";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int status = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		resp = mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	} else if (strcmp(url, "/metrics") != 0) {
		resp = mhd.create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else if ((body = hb_metrics_render(&len)) == NULL) {
		resp = mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	} else {
		resp = mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
			free(body);
	}
	if (resp == NULL)
		return MHD_NO;
	if (status == MHD_HTTP_OK)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
	else if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = mhd.queue_response(conn, status, resp);
	mhd.destroy_response(resp);
	return ret;
}

int hb_metrics_server_start(const char *listen, hb_metrics_server **out, hb_error *err)
{
	struct addrinfo *ai = NULL;
	hb_metrics_server *s;
	sigset_t all, old;
	unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD;
	int rc;

	rc = listen_resolve(listen, &ai, err);
	if (rc == 0)
		rc = mhd_load(err);
	if (rc < 0) {
		if (ai != NULL)
			freeaddrinfo(ai);
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		freeaddrinfo(ai);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The server's thread inherits this mask: SIGTERM and SIGHUP must
	 * interrupt the daemon's poll, not land in the server's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	errno = 0;
	s->mhd = mhd.start_daemon(flags, 0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
	rc = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	freeaddrinfo(ai);
	if (s->mhd == NULL) {
		free(s);
		return hb_error_set(err, -HB_EIO, "cannot serve metrics on %s: %s", listen,
				    rc ? strerror(rc) : "libmicrohttpd refused to start");
	}
	*out = s;
	return 0;
}

void hb_metrics_server_stop(hb_metrics_server *s)
{
	if (s == NULL)
		return;
	mhd.stop_daemon(s->mhd);
	free(s);
}

int hb_metrics_open(const struct hb_metric_def *defs, const char *listen, hb_metrics_server **out,
		    hb_error *err)
{
	int rc = hb_metrics_declare(defs, err);

	*out = NULL;
	if (rc < 0 || listen == NULL || listen[0] == '\0')
		return rc;
	rc = hb_metrics_server_start(listen, out, err);
	if (rc == 0)
		hb_log(HB_LOG_INFO, "metrics at http://%s/metrics", listen);
	return rc;
}

void hb_metrics_close(hb_metrics_server *s)
{
	hb_metrics_server_stop(s);
	hb_metrics_reset();
}
