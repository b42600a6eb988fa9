/* emit_build.h -- the HOOK_MESSAGE an emit command line describes, for the one-shot emitter and the daemon's local socket alike. */
#ifndef HB_EMIT_BUILD_H
#define HB_EMIT_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "emit_args.h"
#include "error.h"
#include "message.h"

/* The text of --object: given (what a local client sent), or read from
 * --object's file by hb_emit_build() into owned (the caller frees it). */
typedef struct hb_emit_object {
	const char *text;
	size_t len;
	char *owned;
	bool no_files;   /* never read a file: a missing text is an error */
} hb_emit_object;

/*
 * Builds the event of a parsed emit command line (`api CALL ...` or
 * `state OBJ ID STATE ...`) into *msg (freed with hb_message_free()).  The
 * object document of a state event is obj's text when --object was given.
 * Arguments that do not make an event, and an object that is not XML, are
 * -HB_EINVAL; an object file larger than HB_EMIT_OBJECT_MAX -HB_ETOOBIG.
 */
int hb_emit_build(const hb_emit_args *a, hb_emit_object *obj, hb_message **msg, hb_error *err);

#endif
