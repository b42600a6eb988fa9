/* hookdef.h -- a hook template checked and turned into a hook definition with its trigger. */
#ifndef HB_HOOKDEF_H
#define HB_HOOKDEF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "filter.h"
#include "resources.h"
#include "template.h"

/* Longest hook NAME, in characters (UTF-8 sequences count as one). */
#define HB_HOOK_NAME_MAX 128

/* Largest TIMEOUT and LOG_RETENTION accepted. */
#define HB_HOOK_NUMBER_MAX 2147483647L

/* RETRY_DELAY when RETRIES is set without it, and the longest wait between
 * two attempts: the delay doubles with each attempt up to this cap. */
#define HB_RETRY_DELAY_DEFAULT 10
#define HB_RETRY_DELAY_CAP 3600

/* Most automatic retries one execution may get, and the largest per-hook
 * CONCURRENCY. */
#define HB_RETRIES_MAX 100
#define HB_HOOK_CONCURRENCY_MAX 4096

/* Which endings of an execution RETRY_ON retries. */
typedef enum hb_retry_on {
	HB_RETRY_ON_BOTH,     /* both (the default) */
	HB_RETRY_ON_FAILURE,  /* failure: a non-zero exit, a death by signal, a hook that could not start */
	HB_RETRY_ON_TIMEOUT,  /* timeout: killed after TIMEOUT */
} hb_retry_on;

typedef enum hb_hook_type {
	HB_HOOK_API,    /* runs on EVENT API <CALL> 0|1 */
	HB_HOOK_STATE,  /* runs on EVENT STATE <RESOURCE>/<STATE>/<LCM_STATE>/<id> */
} hb_hook_type;

/*
 * A validated hook (DESIGN section 4).  Every field is owned by the
 * definition and read-only for its users: a change is a new definition made
 * by hb_hookdef_update() or hb_hookdef_rename().  The strings are the values
 * as the template holds them after validation.
 */
typedef struct hb_hookdef {
	char *name;             /* NAME */
	hb_hook_type type;      /* TYPE */
	char *command;          /* COMMAND, as written (relative to the hook base path or absolute) */
	char *arguments;        /* ARGUMENTS, NULL when the template has none */
	bool arguments_stdin;   /* ARGUMENTS_STDIN = yes */
	long timeout;           /* TIMEOUT in seconds, -1 when not set */
	bool remote;            /* REMOTE = yes */
	long log_retention;     /* LOG_RETENTION, -1 when not set */
	char *call;             /* api: CALL; state: NULL */
	char *resource;         /* state: RESOURCE, upper-case; api: NULL */
	char *state;            /* state: STATE; api: NULL */
	char *lcm_state;        /* state: LCM_STATE, "" for objects without LCM states; api: NULL */
	bool wildcard;          /* CALL, STATE or LCM_STATE holds a '*' */
	char *filter;           /* FILTER, NULL when none (or empty) */
	hb_filter *filter_comp; /* FILTER compiled, NULL when none */
	long retries;           /* RETRIES, 0 when not set */
	long retry_delay;       /* RETRY_DELAY in seconds (HB_RETRY_DELAY_DEFAULT when not set) */
	hb_retry_on retry_on;   /* RETRY_ON */
	long concurrency;       /* CONCURRENCY, -1 when not set (only the global limit applies) */
	bool concurrency_skip;  /* CONCURRENCY_POLICY = skip (else delay) */
	bool blocking;          /* BLOCKING = yes: its executions are the event's verdict */
	char *prefix;           /* the subscription prefix, see hb_hookdef_prefix() */
	hb_template *tmpl;      /* the stored template: without NAME, TYPE and ON */
} hb_hookdef;

/*
 * Checks template t and builds a new hook definition from it in *out, which
 * the caller frees with hb_hookdef_free().  t is only read: the definition
 * keeps its own copy of it in which, as OpenNebula does, NAME and TYPE are
 * removed, RESOURCE is upper-cased, and ON is removed and turned into STATE
 * and LCM_STATE.  Attributes hem does not know are kept as written.
 * res gives the objects and states that state hooks may name (only read,
 * and not kept; NULL means no object is known, so only api hooks pass).
 * FILTER is compiled here (hb_filter_compile()), so an invalid expression
 * is refused with libxml2's message.  '*' in CALL, STATE and LCM_STATE is a
 * wildcard (see hb_hookdef_glob()); a pattern must match at least one state
 * of the object.  REMOTE = yes is for state hooks only (API events carry no
 * REMOTE_HOST).  BLOCKING = yes makes the hook's executions the verdict of
 * their event (hem's VERDICT request).
 * On error *out is untouched and err names the attribute and,
 * when the template carries it, its line, e.g. "STATE: 'PENDIN' is not a
 * state of VM (line 3)"; the code is -HB_EINVAL (or -HB_ENOMEM).
 */
int hb_hookdef_new(const hb_template *t, const hb_resources *res, hb_hookdef **out, hb_error *err);

/* Frees d and everything it owns; accepts NULL. */
void hb_hookdef_free(hb_hookdef *d);

/*
 * Builds the definition that `hookctl update` asks for in *out (freed by the
 * caller with hb_hookdef_free()); old is left as it is.  In replace mode the
 * new template is changes alone; in append mode (append true) it is old's
 * template with every attribute that changes names replaced by changes' ones
 * and the others kept (and, when changes carries ON, old's STATE and
 * LCM_STATE dropped as well, since they came from the previous trigger).
 * Either way NAME and TYPE stay old's: changes may only repeat them as they
 * are ("NAME cannot be changed by update; use rename" otherwise).  The
 * result is checked as hb_hookdef_new() checks a template; error lines refer
 * to changes.
 */
int hb_hookdef_update(const hb_hookdef *old, const hb_template *changes, bool append,
		      const hb_resources *res, hb_hookdef **out, hb_error *err);

/* Builds in *out (freed by the caller) a copy of old named name, after
 * checking the name as NAME is checked; old is left as it is. */
int hb_hookdef_rename(const hb_hookdef *old, const char *name, hb_hookdef **out, hb_error *err);

/* Checks that name is a valid hook NAME: not empty, at most
 * HB_HOOK_NAME_MAX characters, none of &|:\";/'#{}$<> or control characters. */
int hb_hookdef_check_name(const char *name, hb_error *err);

/* Returns "api" or "state", the TYPE as hem stores it. */
const char *hb_hook_type_str(hb_hook_type type);

/*
 * Returns the prefix hem subscribes to for d, closed by its separator so
 * that no other trigger shares it by accident: "EVENT API <CALL> " for api
 * hooks, "EVENT STATE <RESOURCE>/<STATE>/<LCM_STATE>/" for state hooks
 * (LCM_STATE empty for objects without LCM states, as in
 * "EVENT STATE HOST/ERROR//").  With a wildcard the prefix stops before the
 * first '*' ("EVENT API one.vm." for CALL = one.vm.*, "EVENT STATE VM/" for
 * STATE = *), the shortest exact prefix that covers every key the pattern
 * matches.  The string belongs to d.
 */
const char *hb_hookdef_prefix(const hb_hookdef *d);

/*
 * Whether the len bytes of key (need not be NUL-terminated) are an event key
 * that triggers d: "EVENT API <call> 0|1" whose call matches CALL for api
 * hooks, "EVENT STATE <RESOURCE>/<state>/<lcm>/<id> " whose state and lcm
 * match STATE and LCM_STATE for state hooks, where <id> is not empty and
 * holds no '/' or blank.  Without wildcards a match is an exact match.
 */
bool hb_hookdef_matches(const hb_hookdef *d, const char *key, size_t len);

/*
 * Whether the len bytes of s match pattern, in which '*' stands for any run
 * of bytes (possibly empty) that holds no '/' and no blank, so a wildcard
 * never reaches into the next segment of a key; every other byte stands for
 * itself.
 */
bool hb_hookdef_glob(const char *pattern, const char *s, size_t len);

/* Returns the stored template as text (hb_template_to_str()), which the
 * caller frees; NULL when out of memory. */
char *hb_hookdef_template_str(const hb_hookdef *d);

#endif
