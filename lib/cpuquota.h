/* cpuquota.h -- how many CPUs a cgroup v2 CPU quota (cpu.max) lets this process use. */
#ifndef HB_CPUQUOTA_H
#define HB_CPUQUOTA_H

#include <stddef.h>

/* The CPUs that the quotas of the process's cgroup and of its ancestors
 * allow, the smallest of them rounded up: a quota of 150000 per 100000 µs
 * is 2.  proc_cgroup is the process's cgroup list (/proc/self/cgroup),
 * root the mount point of the cgroup v2 hierarchy (/sys/fs/cgroup).
 * Returns 0 when no quota applies or none can be read: no cgroup v2 entry
 * (cgroup v1 quotas are not read), "max", missing or malformed files. */
size_t hb_cpu_quota(const char *root, const char *proc_cgroup);

#endif
