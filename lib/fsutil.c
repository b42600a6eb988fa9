/* fsutil.c -- reading files and standard input with a bound, creating directory trees. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

int hb_fd_read_all(int fd, size_t max, char **out, size_t *len, hb_error *err)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);

	if (buf == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap > max) {
				free(buf);
				return hb_error_set(err, -HB_ETOOBIG, "input larger than %zu bytes", max);
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				return hb_error_set(err, -HB_ENOMEM, "out of memory");
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			return hb_error_set(err, -HB_EIO, "read failed: %s", strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return hb_error_set(err, -HB_ETOOBIG, "input larger than %zu bytes", max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int hb_file_read(const char *path, size_t max, char **out, size_t *len, hb_error *err)
{
	hb_autoclose int fd = -1;
	int rc;

	if (strcmp(path, "-") == 0)
		return hb_fd_read_all(STDIN_FILENO, max, out, len, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hb_error_set(err, errno == ENOENT ? -HB_ENOENT : -HB_EIO, "cannot open %s: %s",
				    path, strerror(errno));
	rc = hb_fd_read_all(fd, max, out, len, err);
	if (rc < 0)
		return hb_error_prefix(err, "%s", path);
	return 0;
}

int hb_mkdir_p(const char *path, mode_t mode, hb_error *err)
{
	hb_autofree char *p = strdup(path);
	size_t n;

	if (p == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST)
				return hb_error_set(err, -HB_EIO, "cannot create directory %s: %s", p, strerror(errno));
			*s = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int hb_mkdir_parent(const char *path, mode_t mode, hb_error *err)
{
	hb_autofree char *p = strdup(path);
	char *slash;

	if (p == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	slash = strrchr(p, '/');
	if (slash == NULL || slash == p)
		return 0;
	*slash = '\0';
	return hb_mkdir_p(p, mode, err);
}
