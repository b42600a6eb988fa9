/* args.c -- splitting a hook's ARGUMENTS into argv and filling in $API and $TEMPLATE, with no shell. */
#include "args.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Reads the word that starts at s (not a blank), removing quotes and
 * unescaping \" inside them.  When out is not NULL the word's bytes are
 * written there (without a NUL).  Returns the number of bytes of s the word
 * takes and sets *len to its unquoted length; returns 0 for an unterminated
 * quote, with *open at the offset of the quote from s.
 */
static size_t scan_word(const char *s, char *out, size_t *len, size_t *open)
{
	bool quoted = false;
	size_t i = 0, n = 0;

	while (s[i] != '\0' && (quoted || !is_blank(s[i]))) {
		if (s[i] == '"') {
			if (!quoted)
				*open = i;
			quoted = !quoted;
			i++;
			continue;
		}
		if (quoted && s[i] == '\\' && s[i + 1] == '"')
			i++;
		if (out != NULL)
			out[n] = s[i];
		n++;
		i++;
	}
	*len = n;
	return quoted ? 0 : i;
}

/* The placeholders, in the order they are looked for at each '$'. */
enum { PH_API, PH_TEMPLATE, PH_NONE };
static const char *const placeholders[] = { "$API", "$TEMPLATE" };

/* Returns which placeholder starts at s, or PH_NONE. */
static int placeholder_at(const char *s)
{
	if (*s != '$')
		return PH_NONE;
	for (int k = PH_API; k < PH_NONE; k++)
		if (strncmp(s, placeholders[k], strlen(placeholders[k])) == 0)
			return k;
	return PH_NONE;
}

/* Returns the length of word with its placeholders replaced by vals, or
 * SIZE_MAX when that would exceed limit. */
static size_t expanded_len(const char *word, const char *const vals[], size_t limit)
{
	size_t n = 0;

	while (*word != '\0') {
		int k = placeholder_at(word);
		size_t add = 1;

		if (k != PH_NONE) {
			add = strlen(vals[k]);
			word += strlen(placeholders[k]);
		} else {
			word++;
		}
		if (add > limit - n)
			return SIZE_MAX;
		n += add;
	}
	return n;
}

/* Writes word with its placeholders replaced by vals to out (which has room
 * for the result and its NUL). */
static void expand_into(const char *word, const char *const vals[], char *out)
{
	while (*word != '\0') {
		int k = placeholder_at(word);

		if (k == PH_NONE) {
			*out++ = *word++;
			continue;
		}
		memcpy(out, vals[k], strlen(vals[k]));
		out += strlen(vals[k]);
		word += strlen(placeholders[k]);
	}
	*out = '\0';
}

/* Splits arguments into the new NULL-terminated array *words of *n new
 * strings, quotes removed, placeholders not yet replaced. */
static int split(const char *arguments, char ***words, size_t *n, hb_error *err)
{
	char **v = calloc(1, sizeof(*v));
	size_t count = 0, cap = 1;
	const char *base = arguments ? arguments : "";
	const char *s = base;

	if (v == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (;;) {
		size_t used, len, open = 0;
		char *w;

		while (is_blank(*s))
			s++;
		if (*s == '\0')
			break;
		if (count == HB_ARGS_MAX_COUNT) {
			hb_args_free(v);
			return hb_error_set(err, -HB_ETOOBIG, "ARGUMENTS: more than %d arguments",
					    HB_ARGS_MAX_COUNT);
		}
		used = scan_word(s, NULL, &len, &open);
		if (used == 0) {
			hb_args_free(v);
			return hb_error_set(err, -HB_EINVAL,
					    "ARGUMENTS: unterminated quote opened at character %zu",
					    (size_t)(s - base) + open + 1);
		}
		if (count + 1 == cap) {
			char **nv = realloc(v, 2 * cap * sizeof(*v));

			if (nv == NULL) {
				hb_args_free(v);
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			}
			v = nv;
			cap *= 2;
		}
		w = malloc(len + 1);
		if (w == NULL) {
			hb_args_free(v);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		scan_word(s, w, &len, &open);
		w[len] = '\0';
		v[count++] = w;
		v[count] = NULL;
		s += used;
	}
	*words = v;
	*n = count;
	return 0;
}

int hb_args_expand(const char *arguments, const char *api_b64, const char *template_b64,
		   char ***argv_out, size_t *argc_out, hb_error *err)
{
	const char *const vals[] = { api_b64 ? api_b64 : "", template_b64 ? template_b64 : "" };
	char **words = NULL;
	size_t n = 0, total = 0;
	int rc = split(arguments, &words, &n, err);

	if (rc < 0)
		return rc;
	/* Measure everything first so that a huge expansion is refused before
	 * anything large is allocated. */
	for (size_t i = 0; i < n; i++) {
		size_t len = expanded_len(words[i], vals, HB_ARGS_MAX_BYTES - total);

		if (len == SIZE_MAX || len + 1 > HB_ARGS_MAX_BYTES - total) {
			hb_args_free(words);
			return hb_error_set(err, -HB_ETOOBIG,
					    "ARGUMENTS: the expanded arguments exceed %u bytes",
					    HB_ARGS_MAX_BYTES);
		}
		total += len + 1;
	}
	for (size_t i = 0; i < n; i++) {
		char *w;

		if (strchr(words[i], '$') == NULL)
			continue;
		w = malloc(expanded_len(words[i], vals, HB_ARGS_MAX_BYTES) + 1);
		if (w == NULL) {
			hb_args_free(words);
			return hb_error_set(err, -HB_ENOMEM, "out of memory");
		}
		expand_into(words[i], vals, w);
		free(words[i]);
		words[i] = w;
	}
	*argv_out = words;
	if (argc_out != NULL)
		*argc_out = n;
	return 0;
}

bool hb_args_take_event(const char *arguments)
{
	return arguments != NULL && strchr(arguments, '$') != NULL;
}

void hb_args_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}

char *hb_args_join(char *const *argv, size_t argc)
{
	size_t total = 1, off = 0;
	char *s;

	for (size_t i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (len > SIZE_MAX - total - 1)
			return NULL;
		total += len + (i > 0);
	}
	s = malloc(total);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]);

		if (i > 0)
			s[off++] = ' ';
		memcpy(s + off, argv[i], len);
		off += len;
	}
	s[off] = '\0';
	return s;
}
