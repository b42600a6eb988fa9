/* cleanup.h -- scope-bound release of memory, fds and handles (__attribute__((cleanup))). */
#ifndef HB_CLEANUP_H
#define HB_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void hb_cleanup_free_fn(void *p)
{
	free(*(void **)p);
}

static inline void hb_cleanup_close_fn(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* A pointer released with free() when it leaves scope; hand it over with
 * `*out = p; p = NULL;`. */
#define hb_autofree __attribute__((cleanup(hb_cleanup_free_fn)))
/* A file descriptor closed when it leaves scope unless it is -1. */
#define hb_autoclose __attribute__((cleanup(hb_cleanup_close_fn)))

/* Moves ownership of *pp out: returns it and leaves NULL behind. */
#define hb_steal(pp) __extension__({ __typeof__(*(pp)) hb_s_ = *(pp); *(pp) = NULL; hb_s_; })

#endif
