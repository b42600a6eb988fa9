/* hookindex.c -- the hooks an event key can trigger, found by their subscription prefix instead of a walk over every hook. */
#include "hookindex.h"

#include <stdlib.h>
#include <string.h>

#include "hem.h"

static int by_prefix_cmp(const void *a, const void *b)
{
	const struct hem_hook_entry *x = a, *y = b;
	int c = strcmp(x->prefix, y->prefix);

	return c != 0 ? c : (x->hook > y->hook) - (x->hook < y->hook);
}

static int index_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* Byte order of s against the first len bytes of key, as strcmp(). */
static int cmp_head(const char *s, const char *key, size_t len)
{
	size_t slen = strlen(s);
	int c = memcmp(s, key, slen < len ? slen : len);

	return c != 0 ? c : (slen > len) - (slen < len);
}

/* How many indexed prefixes sort at or before the first len bytes of key. */
static size_t upper_bound(const struct hem_hook_index *x, const char *key, size_t len)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_head(x->by_prefix[mid].prefix, key, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int build(struct hem *h, hb_error *err)
{
	struct hem_hook_index *x = &h->index;

	hem_hook_index_free(x);
	x->by_prefix = malloc((h->nhooks + 1) * sizeof(*x->by_prefix));
	/* A key finds a hook once at most (each prefix once). */
	x->found = malloc((h->nhooks * HB_KEYS_MAX + 1) * sizeof(*x->found));
	if (x->by_prefix == NULL || x->found == NULL) {
		hem_hook_index_free(x);
		x->stale = true;
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < h->nhooks; i++)
		x->by_prefix[i] = (struct hem_hook_entry){ h->hooks[i].def->prefix, i };
	qsort(x->by_prefix, h->nhooks, sizeof(*x->by_prefix), by_prefix_cmp);
	x->n = h->nhooks;
	x->stale = false;
	return 0;
}

void hem_hook_index_stale(struct hem *h)
{
	h->index.stale = true;
}

/*
 * The prefixes that begin key, longest first.  Those sorting at or before
 * key are candidates; the last one, P, either begins key (a match: the
 * hooks sharing P sort just before it, and the next candidates are the
 * prefixes of key shorter than P) or shares only its first c bytes with
 * key, and then no prefix of key longer than c sorts before P.  Each step
 * is one binary search, and the candidates' length only shrinks.
 */
static void find_key(struct hem_hook_index *x, const char *key, size_t *count)
{
	size_t len = strlen(key), j = upper_bound(x, key, len);

	while (j > 0) {
		const char *p = x->by_prefix[j - 1].prefix;
		size_t plen = strlen(p), c = 0;

		while (c < plen && c < len && p[c] == key[c])
			c++;
		if (c == plen) {
			while (j > 0 && strcmp(x->by_prefix[j - 1].prefix, p) == 0)
				x->found[(*count)++] = x->by_prefix[--j].hook;
			if (plen == 0)
				return;
			len = plen - 1;
		} else {
			len = c;
		}
		j = upper_bound(x, key, len);
	}
}

int hem_hook_index_find(struct hem *h, char *const *keys, size_t n, size_t *count, hb_error *err)
{
	struct hem_hook_index *x = &h->index;
	size_t m = 0, u = 0;

	if (x->found == NULL || x->stale || x->n != h->nhooks) {
		int rc = build(h, err);
		if (rc < 0)
			return rc;
	}
	for (size_t k = 0; k < n && k < HB_KEYS_MAX; k++)
		find_key(x, keys[k], &m);
	qsort(x->found, m, sizeof(*x->found), index_cmp);
	for (size_t i = 0; i < m; i++)
		if (u == 0 || x->found[u - 1] != x->found[i])
			x->found[u++] = x->found[i];
	*count = u;
	return 0;
}

void hem_hook_index_free(struct hem_hook_index *x)
{
	free(x->by_prefix);
	free(x->found);
	x->by_prefix = NULL;
	x->found = NULL;
	x->n = 0;
}
