/* spawn_probe.c -- the machine's raw posix_spawn baselines for bench/: spawn-and-reap rate at a
 * concurrency, wall time of one command, and spawn-to-start latency through bench/stamp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double pct(int64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)v[i] / 1e6;
}

static const char *stdin_path;   /* wall mode: each run reads this file on stdin */

static pid_t spawn(char **argv, char **envp)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (stdin_path != NULL)
		posix_spawn_file_actions_addopen(&fa, 0, stdin_path, O_RDONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);

	if (rc != 0) {
		fprintf(stderr, "spawn_probe: %s: %s\n", argv[0], strerror(rc));
		exit(1);
	}
	return pid;
}

/* Keeps `conc` copies of argv running until `count` have been started and
 * reaped; prints the rate. */
static void rate(char **argv, long conc, long count)
{
	long started = 0, done = 0, running = 0;
	int64_t t0 = probe_ns(CLOCK_MONOTONIC);
	int status;

	while (done < count) {
		while (running < conc && started < count) {
			spawn(argv, environ);
			started++;
			running++;
		}
		if (wait(&status) > 0) {
			running--;
			done++;
		} else if (errno != EINTR) {
			perror("wait");
			exit(1);
		}
	}
	printf("spawn_rate %.1f\n", (double)count / ((double)(probe_ns(CLOCK_MONOTONIC) - t0) / 1e9));
}

/* Runs argv count times, one at a time; prints p50/p99 of the wall time in ms. */
static void wall(char **argv, long count)
{
	int64_t *t = calloc((size_t)count, sizeof(*t));
	int status;

	for (long i = 0; i < count; i++) {
		int64_t t0 = probe_ns(CLOCK_MONOTONIC);
		pid_t pid = spawn(argv, environ);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		t[i] = probe_ns(CLOCK_MONOTONIC) - t0;
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_i64);
	printf("wall_ms p50 %.3f p99 %.3f\n", pct(t, (size_t)count, 0.5), pct(t, (size_t)count, 0.99));
	free(t);
}

/* Spawns argv (bench/stamp FILE) count times with HOOK_SEQ=i and prints
 * p50/p99 of the time from before posix_spawn to the stamp the child took. */
static void start_latency(char **argv, long count)
{
	int64_t *t0 = calloc((size_t)count, sizeof(*t0));
	int64_t *d = calloc((size_t)count, sizeof(*d));
	char seq[32];
	char *envp[] = { seq, NULL };
	size_t n = 0;
	long s;
	long long ns;
	int status;
	FILE *f;

	for (long i = 0; i < count; i++) {
		snprintf(seq, sizeof(seq), "HOOK_SEQ=%ld", i);
		t0[i] = probe_ns(CLOCK_REALTIME);
		pid_t pid = spawn(argv, envp);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		exit(1);
	}
	while (fscanf(f, "%ld %lld", &s, &ns) == 2)
		if (s >= 0 && s < count && n < (size_t)count)
			d[n++] = ns - t0[s];
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "spawn_probe: no stamps in %s\n", argv[1]);
		exit(1);
	}
	qsort(d, n, sizeof(*d), cmp_i64);
	printf("start_ms p50 %.3f p99 %.3f\n", pct(d, n, 0.5), pct(d, n, 0.99));
	free(t0);
	free(d);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: spawn_probe rate CONCURRENCY COUNT CMD [ARG]...\n"
				"       spawn_probe wall COUNT [--stdin FILE] CMD [ARG]...\n"
				"       spawn_probe start COUNT STAMP FILE\n");
		return 2;
	}
	if (strcmp(argv[1], "rate") == 0 && argc >= 5)
		rate(argv + 4, atol(argv[2]), atol(argv[3]));
	else if (strcmp(argv[1], "wall") == 0 && strcmp(argv[3], "--stdin") == 0 && argc >= 6) {
		stdin_path = argv[4];
		wall(argv + 5, atol(argv[2]));
	} else if (strcmp(argv[1], "wall") == 0)
		wall(argv + 3, atol(argv[2]));
	else if (strcmp(argv[1], "start") == 0 && argc >= 5)
		start_latency(argv + 3, atol(argv[2]));
	else {
		fprintf(stderr, "spawn_probe: unknown mode %s\n", argv[1]);
		return 2;
	}
	return 0;
}
