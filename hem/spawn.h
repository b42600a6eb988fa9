/* spawn.h -- starting a program without waiting for its exec: the caller's loop goes on while the kernel loads it. */
#ifndef HB_SPAWN_H
#define HB_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* What a started process needs of its parent until it has exec'd: its
 * copy of path, argv and envp, its stack, the pipe that tells how the exec
 * went.  Owned by the caller once started (hb_spawn_free()). */
typedef struct hb_spawn hb_spawn;

/*
 * Starts path with argv and envp (copied: the caller may free them at
 * once) in a new process group, with stdin, stdout and stderr taken from
 * in_fd (-1: /dev/null), out_fd and err_fd, every signal's disposition the
 * default, an empty signal mask, and no other descriptor.  Returns 0 with
 * *pid, a pidfd for it in *pidfd (readable once it has exited) and *sp, as
 * soon as the process exists: whether the exec worked is for
 * hb_spawn_check() to tell.  A negative code (err says why) when no
 * process could be made.
 */
int hb_spawn_start(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
		   pid_t *pid, int *pidfd, hb_spawn **sp, hb_error *err);

/*
 * Looks, without blocking, at how the exec of *sp went.  Returns 1 when the
 * program runs (*sp is freed and set to NULL: nothing of the caller is used
 * by the process any more), 0 while it has not exec'd yet, and a negative
 * code when the exec failed: err says "cannot execute PATH: <why>", the
 * process exits with status 127, and *sp must be kept until it has been
 * reaped.
 */
int hb_spawn_check(hb_spawn **sp, hb_error *err);

/* Frees sp (NULL accepted); only once its process has exec'd or has been
 * reaped, since until then the process may still read it. */
void hb_spawn_free(hb_spawn *sp);

#endif
