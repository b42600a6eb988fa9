/* localproto.h -- the request of a daemon's local socket (docs/PROTOCOL.md): a verb, its arguments and what the client read for it. */
#ifndef HB_LOCALPROTO_H
#define HB_LOCALPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HB_LOCAL_MAGIC "HBL1"     /* magic and version 1 */
#define HB_LOCAL_HEADER 16        /* magic, total length, argument count, payload count */
#define HB_LOCAL_ARGS_MAX 65536   /* arguments after the verb */
#define HB_LOCAL_PAYLOADS_MAX 8
#define HB_LOCAL_NAME_MAX 64      /* bytes of a verb or a payload name */
#define HB_LOCAL_CHUNK 65536      /* bytes of one SOCK_SEQPACKET packet of a request */
#define HB_LOCAL_ANSWER_MAX 8192  /* bytes of an answer (hem's VERDICT answer holds up to 4 KiB of a hook's stderr) */

/* One payload: what the client read for the daemon (an --object file, the
 * container state, config.json, its hostname). */
typedef struct hb_local_payload {
	const char *name;
	const char *data;
	size_t len;
} hb_local_payload;

/* A request: the verb ("emit" or "oci-hook" to the publisher, "VERDICT" to
 * hem) as argv[0], the arguments
 * after it, the payloads.  A decoded request owns its strings (argv, names)
 * and points into the decoded buffer for payload data. */
typedef struct hb_local_request {
	int argc;
	char **argv;
	hb_local_payload payload[HB_LOCAL_PAYLOADS_MAX];
	size_t npayloads;
	char *arena;
} hb_local_request;

/* Encodes r into a new buffer *out (the caller frees it) of *len bytes. */
int hb_local_encode(const hb_local_request *r, char **out, size_t *len, hb_error *err);

/* Reads the total length a request announces in its first n bytes (n at
 * least HB_LOCAL_HEADER): 0 and *total, or -HB_EINVAL for a bad magic. */
int hb_local_peek(const char *buf, size_t n, size_t *total, hb_error *err);

/* Decodes len bytes into r (zeroed first; hb_local_request_clear() frees
 * it).  Every length and count is checked against len and the limits above;
 * strings holding a NUL byte are refused.  Errors are -HB_EINVAL.  Payload
 * data points into buf, which must outlive r. */
int hb_local_decode(const char *buf, size_t len, hb_local_request *r, hb_error *err);

/* Frees what hb_local_decode() allocated in r; accepts a zeroed one. */
void hb_local_request_clear(hb_local_request *r);

/* Returns the named payload of r, or NULL. */
const hb_local_payload *hb_local_payload_get(const hb_local_request *r, const char *name);

/* The socket path of a unix:// endpoint with an absolute path, else NULL. */
const char *hb_local_path(const char *endpoint);

#endif
