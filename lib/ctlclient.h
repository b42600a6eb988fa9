/* ctlclient.h -- a client of hem's control endpoint (hookctl, emit --wait): finding it, one request, one answer. */
#ifndef HB_CTLCLIENT_H
#define HB_CTLCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "ctlendpoint.h"
#include "error.h"

#define HB_CTL_DEFAULT_TIMEOUT_MS 10000

/*
 * What a failed request returns, so that hookctl can tell its exit status:
 * HB_CTL_REFUSED when hem answered ERROR (err holds hem's reason, as hem wrote
 * it), HB_CTL_UNREACHABLE when hem could not be reached or did not answer in
 * time (err says "cannot reach hem at <endpoint>: ..."), -HB_EIO when its
 * answer was malformed, -HB_ENOMEM when memory ran out.
 */
#define HB_CTL_REFUSED (-HB_EPERM)
#define HB_CTL_UNREACHABLE (-HB_ETIMEDOUT)

typedef struct hb_ctl hb_ctl;

/* Decides which endpoint to talk to: flag (--endpoint) when non-NULL, else
 * $HOOKBUS_ENDPOINT when set and non-empty, else CONTROL_ENDPOINT of the
 * config file config_path when non-NULL (a hem.conf: any of hem's keys is
 * accepted), else the default.  *out is a new string the caller frees.  A
 * config file that cannot be read or parsed is -HB_EINVAL. */
int hb_ctl_endpoint(const char *flag, const char *config_path, char **out, hb_error *err);

/* Prepares requests to endpoint, each waiting at most timeout_ms for its
 * answer.  *out is freed with hb_ctl_free.  No request is sent yet; an
 * endpoint ZeroMQ cannot connect to (unknown transport, malformed address) is
 * -HB_EINVAL. */
int hb_ctl_new(const char *endpoint, int timeout_ms, hb_ctl **out, hb_error *err);

/* Frees c (its ZeroMQ context too); accepts NULL. */
void hb_ctl_free(hb_ctl *c);

/* The endpoint c talks to (owned by c). */
const char *hb_ctl_endpoint_of(const hb_ctl *c);

/* Sends the NULL-terminated list of frames (the request verb, then its
 * arguments, as NUL-terminated strings) and waits for hem's answer.  On OK,
 * *payload is a new NUL-terminated copy of the answer (the caller frees it)
 * and *len its length.  Errors as described above. */
int hb_ctl_call(hb_ctl *c, const char *const *frames, char **payload, size_t *len, hb_error *err);

/* Like hb_ctl_call for requests whose answer is an id; stores it in *id.  An
 * answer that is not a non-negative integer is -HB_EIO. */
int hb_ctl_call_id(hb_ctl *c, const char *const *frames, int64_t *id, hb_error *err);

/* Like hb_ctl_call for requests whose answer is an XML document whose root
 * element must be named root.  *doc (freed with xmlFreeDoc) is the parsed
 * answer and *raw (freed by the caller) the answer exactly as hem sent it,
 * rawlen its length.  A payload that does not parse or has another root is
 * -HB_EIO. */
int hb_ctl_call_doc(hb_ctl *c, const char *const *frames, const char *root, xmlDocPtr *doc,
		    char **raw, size_t *rawlen, hb_error *err);

#endif
