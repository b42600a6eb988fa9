/* dynlib.c -- dlopen and dlsym behind hookbus's error contract, with the handles kept. */
#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

#define LIBS_MAX 8

static struct {
	const char *soname;
	void *handle;
} libs[LIBS_MAX];
static pthread_mutex_t libs_lock = PTHREAD_MUTEX_INITIALIZER;

/* Returns the handle of soname, loading it on first use; NULL with the
 * reason in err. */
static void *lib_handle(const char *soname, hb_error *err)
{
	void *h = NULL;
	size_t i;

	pthread_mutex_lock(&libs_lock);
	for (i = 0; i < LIBS_MAX && libs[i].soname != NULL; i++)
		if (strcmp(libs[i].soname, soname) == 0) {
			h = libs[i].handle;
			break;
		}
	if (h == NULL) {
		h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
		if (h == NULL)
			hb_error_set(err, -HB_ENOENT, "cannot load %s: %s", soname, dlerror());
		else if (i < LIBS_MAX) {
			libs[i].soname = soname;
			libs[i].handle = h;
		}
	}
	pthread_mutex_unlock(&libs_lock);
	return h;
}

int hb_dynlib_sym(const char *soname, const char *sym, void **out, hb_error *err)
{
	void *h = lib_handle(soname, err);

	if (h == NULL)
		return err ? err->code : -HB_ENOENT;
	dlerror();
	*out = dlsym(h, sym);
	if (*out == NULL)
		return hb_error_set(err, -HB_ENOENT, "%s has no %s: %s", soname, sym, dlerror());
	return 0;
}
