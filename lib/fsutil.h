/* fsutil.h -- bounded file reads and the directories daemons create. */
#ifndef HB_FSUTIL_H
#define HB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Reads the whole file at path ("-" is standard input) into a new
 * NUL-terminated buffer *out (the caller frees it), its length in *len.  A
 * file larger than max bytes is -HB_ETOOBIG; a missing one -HB_ENOENT. */
int hb_file_read(const char *path, size_t max, char **out, size_t *len, hb_error *err);

/* Reads everything from fd up to max bytes, as hb_file_read(). */
int hb_fd_read_all(int fd, size_t max, char **out, size_t *len, hb_error *err);

/* Creates directory path and its missing parents with mode (existing ones
 * are left as they are). */
int hb_mkdir_p(const char *path, mode_t mode, hb_error *err);

/* Creates the parent directory of path (mode as hb_mkdir_p). */
int hb_mkdir_parent(const char *path, mode_t mode, hb_error *err);

#endif
