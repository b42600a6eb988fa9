/* test_hookindex.c -- proves hem's hook index finds exactly the hooks whose subscription prefix begins an event key, in id order, as a walk over every hook would. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hem.h"
#include "hookindex.h"

#define HOOKS 400

/* Prefixes and keys drawn from a small alphabet, so that prefixes nest,
 * repeat and sort next to keys without beginning them. */
static void random_text(char *out, size_t max, unsigned *seed)
{
	static const char alphabet[] = "ab. ";
	size_t n = (size_t)(rand_r(seed) % (int)max);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rand_r(seed) % 4];
	out[n] = '\0';
}

struct world {
	struct hem h;
	struct hem_hook hooks[HOOKS];
	hb_hookdef defs[HOOKS];
	char prefixes[HOOKS][8];
};

static void world_init(struct world *w, size_t n, unsigned *seed)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < n; i++) {
		random_text(w->prefixes[i], 7, seed);
		w->defs[i].prefix = w->prefixes[i];
		w->hooks[i].id = (int64_t)(i * 3);
		w->hooks[i].def = &w->defs[i];
	}
	w->h.hooks = w->hooks;
	w->h.nhooks = n;
	hem_hook_index_stale(&w->h);
}

/* What a walk over every hook finds: the hooks (in id order) whose prefix
 * begins one of the keys. */
static size_t brute(const struct world *w, char *const *keys, size_t nkeys, size_t *out)
{
	size_t m = 0;

	for (size_t i = 0; i < w->h.nhooks; i++)
		for (size_t k = 0; k < nkeys; k++)
			if (strncmp(keys[k], w->prefixes[i], strlen(w->prefixes[i])) == 0) {
				out[m++] = i;
				break;
			}
	return m;
}

static void test_random_hooks_and_keys(void **state)
{
	unsigned seed = 7;
	static struct world w;
	size_t want[HOOKS];

	(void)state;
	for (int round = 0; round < 40; round++) {
		world_init(&w, (size_t)(rand_r(&seed) % HOOKS) + 1, &seed);
		for (int e = 0; e < 50; e++) {
			char text[HB_KEYS_MAX][12];
			char *keys[HB_KEYS_MAX];
			size_t nkeys = (size_t)(rand_r(&seed) % HB_KEYS_MAX) + 1, got = 0;
			hb_error err = { 0 };

			for (size_t k = 0; k < nkeys; k++) {
				random_text(text[k], 11, &seed);
				keys[k] = text[k];
			}
			assert_int_equal(hem_hook_index_find(&w.h, keys, nkeys, &got, &err), 0);
			assert_int_equal(got, brute(&w, keys, nkeys, want));
			assert_memory_equal(w.h.index.found, want, got * sizeof(size_t));
		}
		hem_hook_index_free(&w.h.index);
	}
}

static void test_rebuilt_after_a_change(void **state)
{
	unsigned seed = 1;
	static struct world w;
	char key[] = "EVENT API one.vm.allocate 1";
	char *keys[] = { key };
	size_t got = 0;
	hb_error err = { 0 };

	(void)state;
	world_init(&w, 2, &seed);
	strcpy(w.prefixes[0], "EVENT ");
	strcpy(w.prefixes[1], "x");
	assert_int_equal(hem_hook_index_find(&w.h, keys, 1, &got, &err), 0);
	assert_int_equal(got, 1);
	/* hem_hook_set() marks the index stale when a hook changes. */
	strcpy(w.prefixes[1], "");
	hem_hook_index_stale(&w.h);
	assert_int_equal(hem_hook_index_find(&w.h, keys, 1, &got, &err), 0);
	assert_int_equal(got, 2);
	hem_hook_index_free(&w.h.index);
}

static void test_no_hooks(void **state)
{
	struct hem h;
	char key[] = "EVENT API one.vm.allocate 1";
	char *keys[] = { key };
	size_t got = 1;
	hb_error err = { 0 };

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(hem_hook_index_find(&h, keys, 1, &got, &err), 0);
	assert_int_equal(got, 0);
	hem_hook_index_free(&h.index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_hooks_and_keys),
		cmocka_unit_test(test_rebuilt_after_a_change),
		cmocka_unit_test(test_no_hooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
