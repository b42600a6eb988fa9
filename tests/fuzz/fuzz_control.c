/* fuzz_control.c -- fuzz harness: hem's control API request parser on any frames (NUL separates them). */
#include <stdint.h>
#include <string.h>

#include "ctlparse.h"
#include "template.h"

#define FUZZ_FRAMES_MAX 10

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits data at NUL bytes into at most FUZZ_FRAMES_MAX frames, parses them
 * as one request, and parses the template of ALLOCATE and UPDATE. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *frames[FUZZ_FRAMES_MAX];
	size_t lens[FUZZ_FRAMES_MAX], n = 0, start = 0;
	hem_ctl_request q;
	hb_error err = { 0 };

	for (size_t i = 0; i <= size && n < FUZZ_FRAMES_MAX; i++) {
		if (i == size || data[i] == '\0' || n == FUZZ_FRAMES_MAX - 1) {
			if (n == FUZZ_FRAMES_MAX - 1)
				i = size;
			frames[n] = (const char *)data + start;
			lens[n++] = i - start;
			start = i + 1;
		}
	}
	if (hem_ctl_parse(frames, lens, n, &q, &err) == 0 && q.text != NULL) {
		hb_template *t = NULL;
		if (hb_template_parse(q.text, q.text_len, &t, &err) == 0)
			hb_template_free(t);
	}
	return 0;
}
