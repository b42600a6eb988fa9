/* fuzz_template.c -- fuzz harness: OpenNebula template text through hb_template_parse and back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses data; what parses is printed and must parse again to the same text
 * (the printer and the parser agree). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hb_template *t = NULL, *again = NULL;
	hb_error err = { 0 };
	char *text, *text2;

	if (hb_template_parse((const char *)data, size, &t, &err) < 0)
		return 0;
	text = hb_template_to_str(t);
	if (text != NULL) {
		if (hb_template_parse(text, strlen(text), &again, &err) < 0)
			abort();
		text2 = hb_template_to_str(again);
		if (text2 != NULL && strcmp(text, text2) != 0)
			abort();
		free(text2);
		hb_template_free(again);
	}
	free(text);
	hb_template_free(t);
	return 0;
}
