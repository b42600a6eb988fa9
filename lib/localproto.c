/* localproto.c -- encodes and checks the requests of the daemons' local sockets: length-prefixed fields after a fixed header. */
#include "localproto.h"

#include <stdlib.h>
#include <string.h>

static void put32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Appends one field (a 4-byte length, then the bytes) at *p. */
static void put_field(char **p, const char *data, size_t len)
{
	put32(*p, (uint32_t)len);
	memcpy(*p + 4, data, len);
	*p += 4 + len;
}

int hb_local_encode(const hb_local_request *r, char **out, size_t *len, hb_error *err)
{
	size_t total = HB_LOCAL_HEADER;
	char *buf, *p;

	if (r->argc < 1 || r->argc - 1 > HB_LOCAL_ARGS_MAX || r->npayloads > HB_LOCAL_PAYLOADS_MAX)
		return hb_error_set(err, -HB_EINVAL, "too many arguments for the local socket");
	for (int i = 0; i < r->argc; i++)
		total += 4 + strlen(r->argv[i]);
	for (size_t i = 0; i < r->npayloads; i++) {
		if (r->payload[i].len > UINT32_MAX - (1u << 20))
			return hb_error_set(err, -HB_ETOOBIG, "payload %s too large", r->payload[i].name);
		total += 8 + strlen(r->payload[i].name) + r->payload[i].len;
	}
	if (total > UINT32_MAX)
		return hb_error_set(err, -HB_ETOOBIG, "request too large for the local socket");
	buf = p = malloc(total);
	if (buf == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	memcpy(p, HB_LOCAL_MAGIC, 4);
	put32(p + 4, (uint32_t)total);
	put32(p + 8, (uint32_t)(r->argc - 1));
	put32(p + 12, (uint32_t)r->npayloads);
	p += HB_LOCAL_HEADER;
	for (int i = 0; i < r->argc; i++)
		put_field(&p, r->argv[i], strlen(r->argv[i]));
	for (size_t i = 0; i < r->npayloads; i++) {
		put_field(&p, r->payload[i].name, strlen(r->payload[i].name));
		put_field(&p, r->payload[i].data, r->payload[i].len);
	}
	*out = buf;
	*len = total;
	return 0;
}

int hb_local_peek(const char *buf, size_t n, size_t *total, hb_error *err)
{
	if (n < HB_LOCAL_HEADER || memcmp(buf, HB_LOCAL_MAGIC, 4) != 0)
		return hb_error_set(err, -HB_EINVAL, "not a local ingest request (bad magic or version)");
	*total = get32(buf + 4);
	if (*total < HB_LOCAL_HEADER)
		return hb_error_set(err, -HB_EINVAL, "request length %zu is shorter than its header", *total);
	return 0;
}

/* Takes the next field at *off of buf[0..len): its bytes and length. */
static int take_field(const char *buf, size_t len, size_t *off, const char **data, size_t *n, hb_error *err)
{
	if (len - *off < 4)
		return hb_error_set(err, -HB_EINVAL, "request truncated at byte %zu", *off);
	*n = get32(buf + *off);
	*off += 4;
	if (len - *off < *n)
		return hb_error_set(err, -HB_EINVAL, "field of %zu bytes at byte %zu overruns the request", *n, *off);
	*data = buf + *off;
	*off += *n;
	return 0;
}

/* Copies a string field into the arena at *a; a NUL inside or more than
 * max bytes is refused. */
static int take_string(const char *data, size_t n, size_t max, char **a, char **out, hb_error *err)
{
	if (n > max || memchr(data, '\0', n) != NULL)
		return hb_error_set(err, -HB_EINVAL, "malformed string field in the request");
	memcpy(*a, data, n);
	(*a)[n] = '\0';
	*out = *a;
	*a += n + 1;
	return 0;
}

int hb_local_decode(const char *buf, size_t len, hb_local_request *r, hb_error *err)
{
	size_t total, nargs, nload, off = HB_LOCAL_HEADER, n;
	const char *data;
	char *a;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = hb_local_peek(buf, len, &total, err);
	if (rc < 0)
		return rc;
	if (total != len)
		return hb_error_set(err, -HB_EINVAL, "request announces %zu bytes but has %zu", total, len);
	nargs = get32(buf + 8);
	nload = get32(buf + 12);
	/* Each field takes at least its 4-byte length: a count the request
	 * cannot hold is refused before anything is allocated for it. */
	if (nargs > HB_LOCAL_ARGS_MAX || nload > HB_LOCAL_PAYLOADS_MAX ||
	    (nargs + 1 + 2 * nload) * 4 > len - HB_LOCAL_HEADER)
		return hb_error_set(err, -HB_EINVAL, "request has more fields than it can hold");
	/* Every string fits in the request's own length, plus one NUL each. */
	r->argv = calloc(nargs + 2, sizeof(char *));
	r->arena = a = malloc(len + nargs + nload + 2);
	if (r->argv == NULL || r->arena == NULL) {
		hb_local_request_clear(r);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i <= nargs && rc == 0; i++) {
		rc = take_field(buf, len, &off, &data, &n, err);
		if (rc == 0)
			rc = take_string(data, n, i == 0 ? HB_LOCAL_NAME_MAX : len, &a, &r->argv[i], err);
	}
	r->argc = (int)nargs + 1;
	for (size_t i = 0; i < nload && rc == 0; i++) {
		char *name;
		rc = take_field(buf, len, &off, &data, &n, err);
		if (rc == 0)
			rc = take_string(data, n, HB_LOCAL_NAME_MAX, &a, &name, err);
		if (rc == 0 && hb_local_payload_get(r, name) != NULL)
			rc = hb_error_set(err, -HB_EINVAL, "payload %s given twice", name);
		if (rc == 0)
			rc = take_field(buf, len, &off, &data, &n, err);
		if (rc == 0) {
			r->payload[r->npayloads++] = (hb_local_payload){ .name = name, .data = data, .len = n };
		}
	}
	if (rc == 0 && off != len)
		rc = hb_error_set(err, -HB_EINVAL, "%zu bytes after the last field", len - off);
	if (rc < 0)
		hb_local_request_clear(r);
	return rc;
}

void hb_local_request_clear(hb_local_request *r)
{
	free(r->argv);
	free(r->arena);
	memset(r, 0, sizeof(*r));
}

const hb_local_payload *hb_local_payload_get(const hb_local_request *r, const char *name)
{
	for (size_t i = 0; i < r->npayloads; i++)
		if (strcmp(r->payload[i].name, name) == 0)
			return &r->payload[i];
	return NULL;
}

const char *hb_local_path(const char *endpoint)
{
	if (strncmp(endpoint, "unix://", 7) != 0 || endpoint[7] != '/')
		return NULL;
	return endpoint + 7;
}
