/* test_cpuquota.c -- proves that the CPU quota is read from the process's cgroup and its ancestors in a cgroup v2 tree (a fake one in a temporary directory), the smallest rounded up, and that anything else means no quota. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpuquota.h"

/* mkdtemp() replaces the X's. */
#define ROOT_TEMPLATE "/tmp/hb-cpuquota-XXXXXX"

struct tree {
	char root[sizeof(ROOT_TEMPLATE)];
	char cgroup[sizeof(ROOT_TEMPLATE) + 16];   /* the fake /proc/self/cgroup */
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Writes text into root/rel (creating root/rel's directories). */
static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	for (slash = strchr(path + strlen(t->root) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	write_file(path, text);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->root, ROOT_TEMPLATE);
	assert_non_null(mkdtemp(t->root));
	snprintf(t->cgroup, sizeof(t->cgroup), "%s.cgroup", t->root);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", t->root, t->cgroup);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void test_the_smallest_quota_of_the_cgroup_and_its_ancestors(void **state)
{
	struct tree *t = *state;

	write_file(t->cgroup, "1:name=systemd:/a/b\n0::/a/b/c\n");
	put(t, "a/b/c/cpu.max", "max 100000\n");
	put(t, "a/b/cpu.max", "150000 100000\n");
	put(t, "a/cpu.max", "400000 100000\n");
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 2);
	put(t, "a/cpu.max", "50000 100000\n");
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 1);
	/* The root itself, as in a container whose cgroup namespace starts at its own cgroup. */
	put(t, "cpu.max", "250000 100000\n");
	write_file(t->cgroup, "0::/\n");
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 3);
}

static void test_no_quota(void **state)
{
	struct tree *t = *state;

	write_file(t->cgroup, "0::/x/y\n");
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 0);   /* no cpu.max anywhere */
	put(t, "x/y/cpu.max", "max 100000\n");
	put(t, "x/cpu.max", "max\n");
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 0);
}

static void test_what_cannot_be_read_is_no_quota(void **state)
{
	struct tree *t = *state;

	put(t, "p/cpu.max", "100000 100000\n");
	write_file(t->cgroup, "4:cpu,cpuacct:/p\n");               /* cgroup v1 only */
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 0);
	write_file(t->cgroup, "0::/../p\n");                      /* outside the namespace */
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 0);
	put(t, "q/cpu.max", "lots 100000\n");
	put(t, "q/r/cpu.max", "100000 0\n");
	write_file(t->cgroup, "0::/q/r\n");                       /* malformed at every level */
	assert_int_equal(hb_cpu_quota(t->root, t->cgroup), 0);
	assert_int_equal(hb_cpu_quota(t->root, "/nonexistent/cgroup"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_smallest_quota_of_the_cgroup_and_its_ancestors, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_no_quota, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_what_cannot_be_read_is_no_quota, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
