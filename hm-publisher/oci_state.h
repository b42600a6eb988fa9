/* oci_state.h -- an OCI runtime's container state (hook stdin) and its bundle's config.json, read with jansson. */
#ifndef HB_OCI_STATE_H
#define HB_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define HB_OCI_STATE_MAX (1u << 20)  /* bytes of state JSON accepted */
#define HB_OCI_CONFIG_MAX (8u << 20) /* bytes of config.json read */
#define HB_OCI_ID_MAX 512            /* bytes of a container id (it goes into the bus keys) */

/* A list of strings owned by whatever holds it. */
typedef struct hb_oci_strv {
	char **v;
	size_t n;
} hb_oci_strv;

/* One annotation. */
typedef struct hb_oci_pair {
	char *key;
	char *value;
} hb_oci_pair;

/* The state of a container as the runtime spec defines it (what a hook
 * reads on stdin).  Strings are owned by the state; an absent optional field
 * is NULL (bundle) or -1 (pid). */
typedef struct hb_oci_state {
	char *oci_version;
	char *id;       /* non-empty, printable ASCII without blanks or '/' */
	char *status;
	char *bundle;
	long long pid;
	hb_oci_pair *annotations;
	size_t nannotations;
} hb_oci_state;

typedef struct hb_oci_mount {
	char *destination;
	char *type;   /* NULL when absent */
	char *source; /* NULL when absent */
	hb_oci_strv options;
} hb_oci_mount;

typedef struct hb_oci_namespace {
	char *type;
	char *path; /* NULL when absent */
} hb_oci_namespace;

/* What hooks commonly need from a bundle's config.json, and what policy
 * hooks check.  Absent strings are NULL, absent booleans -1, and has_user /
 * has_capabilities say whether process.user / process.capabilities exist. */
typedef struct hb_oci_config {
	char *hostname;
	hb_oci_strv args;
	bool has_user;
	unsigned long long uid, gid;
	hb_oci_strv additional_gids;
	char *root_path;
	int root_readonly;
	int no_new_privileges;
	bool has_capabilities;
	hb_oci_strv cap_bounding, cap_effective;
	hb_oci_mount *mounts;
	size_t nmounts;
	hb_oci_namespace *namespaces;
	size_t nnamespaces;
} hb_oci_config;

/*
 * Parses len bytes (no NUL needed) of container state JSON into *out, freed
 * with hb_oci_state_free().  ociVersion, id and status are required; bundle,
 * pid and annotations are optional; every present field must have its
 * spec's type (annotations: an object of strings), other members are
 * ignored.  The id must fit a bus key: at most HB_OCI_ID_MAX bytes of
 * printable ASCII without blanks or '/'.  More than HB_OCI_STATE_MAX bytes is
 * -HB_ETOOBIG; anything else wrong -HB_EINVAL with the field named.  A plain
 * function of its input, so a fuzzer may call it directly.
 */
int hb_oci_state_parse(const char *json, size_t len, hb_oci_state **out, hb_error *err);

/* Frees s; accepts NULL. */
void hb_oci_state_free(hb_oci_state *s);

/*
 * Parses len bytes of a bundle's config.json into *out, freed with
 * hb_oci_config_free().  Every field is optional; one that is present with
 * the wrong type is -HB_EINVAL naming it (e.g. "process.args[2] is not a
 * string").  More than HB_OCI_CONFIG_MAX bytes is -HB_ETOOBIG.
 */
int hb_oci_config_parse(const char *json, size_t len, hb_oci_config **out, hb_error *err);

/* Reads bundle/config.json (at most HB_OCI_CONFIG_MAX bytes) and parses it;
 * errors name the file.  When text is non-NULL, the file's text (a new
 * NUL-terminated string the caller frees) and its length are handed over in
 * *text and *len too. */
int hb_oci_config_load(const char *bundle, hb_oci_config **out, char **text, size_t *len, hb_error *err);

/* Frees c; accepts NULL. */
void hb_oci_config_free(hb_oci_config *c);

#endif
