/* replay.c -- runs a fuzz harness's entry point on saved inputs, without libFuzzer: the regression
 * test of every corpus file (and of every crash once found) in the ordinary builds. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Feeds the file at path to the harness; returns 0, or -1 when unreadable. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int rc = -1;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		rc = 0;
	}
	free(buf);
	fclose(f);
	return rc;
}

/* Replays each file named, and every file of each directory named (in name
 * order); exits non-zero when a path cannot be read or nothing was replayed. */
int main(int argc, char **argv)
{
	size_t total = 0;

	for (int a = 1; a < argc; a++) {
		struct stat st;
		if (stat(argv[a], &st) < 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[a]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[a]) < 0)
				return fprintf(stderr, "replay: cannot read %s\n", argv[a]), 1;
			total++;
			continue;
		}
		DIR *d = opendir(argv[a]);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;
		if (d == NULL)
			return fprintf(stderr, "replay: cannot open %s\n", argv[a]), 1;
		while ((e = readdir(d)) != NULL) {
			char **more;
			if (e->d_name[0] == '.')
				continue;
			more = realloc(names, (n + 1) * sizeof(*names));
			if (more == NULL)
				return closedir(d), 1;
			names = more;
			if (asprintf(&names[n], "%s/%s", argv[a], e->d_name) < 0)
				return closedir(d), 1;
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t i = 0; i < n; i++) {
			if (replay_file(names[i]) < 0)
				return fprintf(stderr, "replay: cannot read %s\n", names[i]), 1;
			free(names[i]);
			total++;
		}
		free(names);
	}
	printf("replayed %zu input(s)\n", total);
	return total > 0 ? 0 : 1;
}
