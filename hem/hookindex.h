/* hookindex.h -- the hooks an event key can trigger, found by their subscription prefix. */
#ifndef HB_HEM_HOOKINDEX_H
#define HB_HEM_HOOKINDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct hem;

/*
 * Every hook that a key can trigger has a subscription prefix that begins
 * the key (hb_hookdef_prefix()): the index finds those hooks by their
 * prefixes, in a few binary searches per key, instead of trying every hook.
 * It is built again at the first use after hem_hook_index_stale().
 */
struct hem_hook_index {
	struct hem_hook_entry {
		const char *prefix;  /* the hook's, owned by its definition (read only while not stale) */
		size_t hook;         /* its index in h->hooks */
	} *by_prefix;        /* sorted by prefix, then hook */
	size_t *found;       /* hem_hook_index_find()'s result (room for nhooks per key) */
	size_t n;            /* hooks indexed */
	bool stale;          /* h->hooks changed since the index was built */
};

/* Marks the index out of date: a hook was added, replaced or removed. */
void hem_hook_index_stale(struct hem *h);

/* Finds the hooks whose prefix begins one of the n keys (HB_KEYS_MAX at
 * most): their indexes in h->hooks, ascending (thus by id), each once, in
 * h->index.found, and how many in *count. */
int hem_hook_index_find(struct hem *h, char *const *keys, size_t n, size_t *count, hb_error *err);

/* Frees the index. */
void hem_hook_index_free(struct hem_hook_index *x);

#endif
