/* dynlib.h -- libraries loaded at run time, only by the daemons' features that need them. */
#ifndef HB_DYNLIB_H
#define HB_DYNLIB_H

#include "error.h"

/*
 * Looks up the symbol sym of the shared library soname (loaded with
 * dlopen on first use and kept for the process's life) and stores its
 * address in *out.  hm-publisher is also the one-shot OCI hook on every
 * container's start path: libraries only `serve` needs (libmicrohttpd and
 * its TLS stack, libsystemd) are loaded this way so that the one-shot modes
 * never pay for mapping them.  A missing library or symbol is -HB_ENOENT
 * with dlerror()'s reason.
 */
int hb_dynlib_sym(const char *soname, const char *sym, void **out, hb_error *err);

#endif
