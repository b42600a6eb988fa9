/* resources.h -- the objects events are about, their states and ON shortcuts (conf/resources.conf). */
#ifndef HB_RESOURCES_H
#define HB_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/*
 * resources.conf is a template (DESIGN sections 3 and 10) with one vector
 * attribute per object:
 *
 *   RESOURCE = [
 *     NAME       = VM,                       # object name used in keys (upper-case)
 *     ROOT       = VM,                       # root element of its document (NET: VNET)
 *     STATES     = "INIT PENDING HOLD ...",  # blank-separated
 *     LCM_STATES = "LCM_INIT PROLOG ...",    # VM only; absent or empty for the rest
 *     ON         = "PROLOG:ACTIVE/PROLOG RUNNING:ACTIVE/RUNNING STOP:STOPPED/LCM_INIT ..." ]
 *
 * ON maps a shortcut to STATE/LCM_STATE (the LCM part empty for objects
 * without LCM states).  CUSTOM is not listed: it means "take STATE and
 * LCM_STATE from the hook template" and is handled by hem.
 */
typedef struct hb_on_shortcut {
	char *name;   /* e.g. RUNNING */
	char *state;  /* e.g. ACTIVE */
	char *lcm;    /* e.g. RUNNING, "" when none */
} hb_on_shortcut;

typedef struct hb_resource {
	char *name;
	char *root;
	char **states;
	size_t nstates;
	char **lcm_states;
	size_t nlcm;
	hb_on_shortcut *on;
	size_t non;
} hb_resource;

typedef struct hb_resources {
	hb_resource *r;
	size_t n;
} hb_resources;

/* Parses resources.conf text; *out is freed with hb_resources_free().
 * Errors name the line of the offending RESOURCE and what is wrong (missing
 * NAME or STATES, a duplicate object, an ON entry that names a state the
 * object does not have, a malformed ON entry). */
int hb_resources_parse(const char *text, size_t len, hb_resources **out, hb_error *err);

/* Reads and parses the file at path (errors are prefixed with the path). */
int hb_resources_load(const char *path, hb_resources **out, hb_error *err);

/* Frees r; accepts NULL. */
void hb_resources_free(hb_resources *r);

/* Returns the object named name (exact, upper-case) or NULL. */
const hb_resource *hb_resources_find(const hb_resources *r, const char *name);

/* Whether the object has state / LCM state s (exact match). */
bool hb_resource_has_state(const hb_resource *res, const char *s);
bool hb_resource_has_lcm(const hb_resource *res, const char *s);

/* Returns the shortcut named on (any case) or NULL. */
const hb_on_shortcut *hb_resource_on(const hb_resource *res, const char *on);

#endif
