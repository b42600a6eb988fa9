/* fault.c -- the fault-injection test seam: parses HB_FAULT once and counts passes of named points. */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

#define FAULTS_MAX 8
#define FAULT_NAME_MAX 64

static struct fault {
	char name[FAULT_NAME_MAX];
	int64_t value;
	int64_t passes;
} faults[FAULTS_MAX];
static size_t nfaults;
static bool parsed;

/* Reads HB_FAULT into faults[]; malformed entries are ignored. */
static void fault_parse(void)
{
	const char *s = getenv("HB_FAULT");

	parsed = true;
	while (s != NULL && *s != '\0' && nfaults < FAULTS_MAX) {
		const char *colon = strchr(s, ':'), *end = strchr(s, ',');
		char *num_end;
		long long v;

		if (end == NULL)
			end = s + strlen(s);
		if (colon != NULL && colon < end && colon > s && (size_t)(colon - s) < FAULT_NAME_MAX) {
			v = strtoll(colon + 1, &num_end, 10);
			if (num_end == end && num_end > colon + 1) {
				memcpy(faults[nfaults].name, s, (size_t)(colon - s));
				faults[nfaults].name[colon - s] = '\0';
				faults[nfaults].value = v;
				nfaults++;
			}
		}
		s = *end ? end + 1 : end;
	}
}

static struct fault *fault_find(const char *name)
{
	if (!parsed)
		fault_parse();
	for (size_t i = 0; i < nfaults; i++)
		if (strcmp(faults[i].name, name) == 0)
			return &faults[i];
	return NULL;
}

bool hb_fault_hit(const char *name)
{
	struct fault *f = fault_find(name);

	return f != NULL && ++f->passes == f->value;
}

int64_t hb_fault_value(const char *name)
{
	struct fault *f = fault_find(name);

	return f != NULL ? f->value : -1;
}
