/* vectors.h -- the message vectors of tests/data/messages/, for the unit tests that read them all. */
#ifndef HB_TEST_VECTORS_H
#define HB_TEST_VECTORS_H

#include <stddef.h>

/* Called with the file name and text of one vector. */
typedef void (*hb_vector_fn)(const char *name, const char *xml, size_t len, void *ctx);

/* Calls fn for every .xml file of tests/data/messages/<kind>/ (under
 * HB_SOURCE_DIR, else the current directory); fails the test when the
 * directory cannot be read or holds none. */
void hb_vectors_each(const char *kind, hb_vector_fn fn, void *ctx);

#endif
