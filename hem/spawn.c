/* spawn.c -- starting a program without waiting for its exec: clone(CLONE_VM) onto a stack of our own, a failed exec's errno left in our memory. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * posix_spawn() suspends its caller until the child has exec'd (CLONE_VFORK):
 * on a busy machine that is most of hem's loop's time (0.6 ms a hook, waiting
 * for the kernel to load the program).  Here the child shares our memory
 * (CLONE_VM, no copy) but not our wait: it runs on a stack of its own, reads
 * only what the parent prepared for it and keeps until it has reaped the
 * child, and makes its system calls directly, never through libc, whose
 * errno it would share with the parent's running thread.  On architectures
 * without the direct calls below, the parent waits for the exec as
 * posix_spawn() does.
 */
/* The child's code runs on our memory with nothing set up for it: no
 * sanitizer instrumentation (its shadow memory and thread state are the
 * parent's). */
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

#if defined(__x86_64__)
#define CLONE_WAIT 0
CHILD_CODE static inline __attribute__((always_inline)) long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define CLONE_WAIT 0
CHILD_CODE static inline __attribute__((always_inline)) long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
	return x0;
}
#else
#define CLONE_WAIT CLONE_VFORK
static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(n, a, b, c, d, e, f);

	return r == -1 ? -errno : r;
}
#endif

#define STACK_SIZE (64 * 1024)   /* the child needs a few hundred bytes; the lowest page is a guard */
#define STACKS_KEPT 64

struct hb_spawn {
	/* Read by the child until its exec: set before the clone, then left alone. */
	const char *path;
	char **argv;
	char **envp;
	int fds[3];          /* stdin (-1: /dev/null), stdout, stderr */
	/* Written by the child only when its exec failed, just before it exits;
	 * read by the parent once it has reaped the child. */
	int exec_errno;
	/* The parent's. */
	void *stack;
};

/* The signals whose disposition is not the default in this process when
 * its first hook starts (hem sets its handlers and ignores at start, before
 * any): the child resets these and no others, one system call each instead
 * of one for each of the 62 signals.  A bit per signal, 1 to 64. */
static uint64_t sigs_to_reset;
static bool sigs_known;

static void sigs_scan(void)
{
	for (int sig = 1; sig <= 64; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler != SIG_DFL || (sa.sa_flags & SA_SIGINFO))
			sigs_to_reset |= UINT64_C(1) << (sig - 1);
	}
	sigs_known = true;
}

/* Stacks of children that have been reaped, for the next ones
 * (mapping and unmapping one per hook costs more than the rest of the
 * start).  Only hem's loop thread starts hooks. */
static void *stacks[STACKS_KEPT];
static size_t nstacks;

static void *stack_take(void)
{
	void *s;

	if (nstacks > 0)
		return stacks[--nstacks];
	s = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	mprotect(s, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);
	return s;
}

static void stack_give(void *s)
{
	if (s == NULL)
		return;
	if (nstacks < STACKS_KEPT)
		stacks[nstacks++] = s;
	else
		munmap(s, STACK_SIZE);
}

/* The action of every signal in the child (struct k_sigaction, zero:
 * SIG_DFL, no flags, empty mask) and its mask at exec (empty). */
static const unsigned long sig_default[4];
static const unsigned long no_signals[1];
static const char dev_null[] = "/dev/null";

/*
 * The child, on its own stack: every signal's disposition back to the
 * default (signals are blocked, so no handler of the parent runs here
 * meanwhile), a process group of its own, its three descriptors, every other
 * one closed at exec, an empty mask, the exec.  A failure leaves its errno in
 * the plan, which the parent reads once it has reaped the child, and exits
 * 127.
 */
CHILD_CODE static int child_main(void *arg)
{
	struct hb_spawn *p = arg;
	long fd[3], rc = 0;

	for (long sig = 1; sig <= 64; sig++)
		if (sigs_to_reset & (UINT64_C(1) << (sig - 1)))
			sys6(SYS_rt_sigaction, sig, (long)sig_default, 0, sizeof(no_signals), 0, 0);
	for (int i = 0; i < 3; i++)
		fd[i] = p->fds[i];
	rc = sys6(SYS_setpgid, 0, 0, 0, 0, 0, 0);
	if (rc >= 0 && fd[0] < 0)
		rc = fd[0] = sys6(SYS_openat, AT_FDCWD, (long)dev_null, O_RDONLY | O_CLOEXEC, 0, 0, 0);
	/* Out of the way of 0, 1 and 2 first, so that no dup3() below
	 * overwrites a descriptor still to be moved. */
	for (int i = 0; rc >= 0 && i < 3; i++)
		if (fd[i] < 3)
			rc = fd[i] = sys6(SYS_fcntl, fd[i], F_DUPFD_CLOEXEC, 3, 0, 0, 0);
	for (int i = 0; rc >= 0 && i < 3; i++)
		rc = sys6(SYS_dup3, fd[i], i, 0, 0, 0, 0);
	/* Every descriptor hem opens is close-on-exec already (pipes, SQLite,
	 * libzmq); this catches any other, on kernels that have it (5.11). */
	if (rc >= 0)
		sys6(SYS_close_range, 3, (long)~0U, CLOSE_RANGE_CLOEXEC, 0, 0, 0);
	if (rc >= 0)
		rc = sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)no_signals, 0, sizeof(no_signals), 0, 0);
	if (rc >= 0)
		rc = sys6(SYS_execve, (long)p->path, (long)p->argv, (long)p->envp, 0, 0, 0);
	p->exec_errno = rc < 0 ? (int)-rc : EIO;
	sys6(SYS_exit_group, 127, 0, 0, 0, 0, 0);
	return 127;
}

/* Bytes of a NULL-terminated string array's pointers and strings. */
static size_t strv_size(char *const v[], size_t *n)
{
	size_t bytes = 0;

	for (*n = 0; v[*n] != NULL; (*n)++)
		bytes += strlen(v[*n]) + 1;
	return bytes + (*n + 1) * sizeof(char *);
}

/* Copies v into *at (pointers first, then the strings); returns the copy. */
static char **strv_copy(char *const v[], size_t n, char **at)
{
	char **out = (char **)(void *)*at;
	char *s = *at + (n + 1) * sizeof(char *);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]) + 1;
		memcpy(s, v[i], len);
		out[i] = s;
		s += len;
	}
	out[n] = NULL;
	*at = s;
	return out;
}

/* One block holding sp, path, argv and envp (pointer-aligned). */
static struct hb_spawn *plan_new(const char *path, char *const argv[], char *const envp[])
{
	size_t na, ne, plen = strlen(path) + 1;
	size_t head = (sizeof(struct hb_spawn) + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
	size_t asz = strv_size(argv, &na), esz = strv_size(envp, &ne);
	size_t asz_al = (asz + sizeof(char *) - 1) / sizeof(char *) * sizeof(char *);
	struct hb_spawn *sp = calloc(1, head + asz_al + esz + plen);
	char *at;

	if (sp == NULL)
		return NULL;
	at = (char *)sp + head;
	sp->argv = strv_copy(argv, na, &at);
	at = (char *)sp + head + asz_al;
	sp->envp = strv_copy(envp, ne, &at);
	memcpy(at, path, plen);
	sp->path = at;
	return sp;
}

void hb_spawn_free(hb_spawn *sp)
{
	if (sp == NULL)
		return;
	stack_give(sp->stack);
	free(sp);
}

int hb_spawn_start(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
		   pid_t *pid, int *pidfd, hb_spawn **out, hb_error *err)
{
	struct hb_spawn *sp = plan_new(path, argv, envp);
	int fd = -1, saved;
	sigset_t all, old;
	pid_t p;

	if (sp == NULL || (sp->stack = stack_take()) == NULL) {
		hb_spawn_free(sp);
		return hb_error_set(err, -HB_ENOMEM, "cannot start %s: out of memory", path);
	}
	if (!sigs_known)
		sigs_scan();
	sp->fds[0] = in_fd;
	sp->fds[1] = out_fd;
	sp->fds[2] = err_fd;
	/* The child starts with every signal blocked, so that no handler of
	 * ours runs in it before it has reset them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	p = clone(child_main, (char *)sp->stack + STACK_SIZE, CLONE_VM | CLONE_PIDFD | CLONE_WAIT | SIGCHLD, sp, &fd);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p < 0) {
		hb_spawn_free(sp);
		return hb_error_set(err, -HB_EIO, "cannot start %s: clone: %s", path, strerror(saved));
	}
	/* The child sets its group too; whichever comes first, the group
	 * exists once this returns (a kill of -pid reaches it). */
	setpgid(p, p);
	*pid = p;
	*pidfd = fd;
	*out = sp;
	return 0;
}

int hb_spawn_exec_result(const hb_spawn *sp, hb_error *err)
{
	if (sp == NULL || sp->exec_errno == 0)
		return 0;
	return hb_error_set(err, -HB_EIO, "cannot execute %s: %s", sp->path, strerror(sp->exec_errno));
}
