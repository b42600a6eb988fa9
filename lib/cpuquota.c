/* cpuquota.c -- reads cgroup v2's cpu.max from a process's cgroup up to the hierarchy's root. */
#include "cpuquota.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The CPUs that dir/cpu.max allows, rounded up; 0 for "max" or when it
 * cannot be read. */
static size_t quota_read(const char *dir)
{
	char path[2 * PATH_MAX + 16];
	uint64_t quota, period;
	size_t cpus = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%" SCNu64 " %" SCNu64, &quota, &period) == 2 && quota > 0 && period > 0)
		cpus = (size_t)((quota + period - 1) / period);
	fclose(f);
	return cpus;
}

/* Copies the cgroup v2 path ("0::/a/b") of the list at proc_cgroup into
 * path; returns 0, or -1 when there is none or it leaves the namespace's
 * root (a path with ".."). */
static int cgroup_path(const char *proc_cgroup, char *path, size_t size)
{
	char line[PATH_MAX + 32];
	int rc = -1;
	FILE *f = fopen(proc_cgroup, "re");

	if (f == NULL)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f) != NULL) {
		size_t n;
		if (strncmp(line, "0::/", 4) != 0)
			continue;
		n = strcspn(line + 3, "\n");
		if (n < size && strstr(line + 3, "/..") == NULL) {
			memcpy(path, line + 3, n);
			path[n] = '\0';
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

size_t hb_cpu_quota(const char *root, const char *proc_cgroup)
{
	char rel[PATH_MAX], dir[2 * PATH_MAX];
	size_t rootlen = strlen(root), least = 0;

	if (cgroup_path(proc_cgroup, rel, sizeof(rel)) < 0 || rootlen >= PATH_MAX)
		return 0;
	snprintf(dir, sizeof(dir), "%s%s", root, rel);
	for (;;) {
		size_t cpus = quota_read(dir), len = strlen(dir);
		char *slash;
		if (cpus > 0 && (least == 0 || cpus < least))
			least = cpus;
		if (len <= rootlen || (slash = strrchr(dir, '/')) == NULL || (size_t)(slash - dir) < rootlen)
			break;
		*slash = '\0';
	}
	return least;
}
