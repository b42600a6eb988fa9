/* vectors.c -- walks the message vectors of tests/data/messages/<kind>/ for a unit test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "vectors.h"

void hb_vectors_each(const char *kind, hb_vector_fn fn, void *ctx)
{
	const char *src = getenv("HB_SOURCE_DIR");
	char dir[4096];
	struct dirent *de;
	size_t seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/data/messages/%s", src ? src : ".", kind);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[8192], *xml = NULL;
		hb_error err = { 0 };
		size_t len;

		if (strstr(de->d_name, ".xml") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(hb_file_read(path, 1 << 20, &xml, &len, &err), 0);
		fn(de->d_name, xml, len, ctx);
		free(xml);
		seen++;
	}
	closedir(d);
	assert_true(seen > 0);
}
