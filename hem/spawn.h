/* spawn.h -- starting a program without waiting for its exec: the caller's loop goes on while the kernel loads it. */
#ifndef HB_SPAWN_H
#define HB_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* What a started process needs of its parent until it has exec'd: its
 * copy of path, argv and envp, its stack, and the place where a failed exec
 * leaves its errno.  Owned by the caller once started (hb_spawn_free()),
 * and kept until the process has been reaped. */
typedef struct hb_spawn hb_spawn;

/*
 * Starts path with argv and envp (copied: the caller may free them at
 * once) in a new process group, with stdin, stdout and stderr taken from
 * in_fd (-1: /dev/null), out_fd and err_fd, every signal's disposition the
 * default, an empty signal mask, and no other descriptor.  Returns 0 with
 * *pid, a pidfd for it in *pidfd (readable once it has exited) and *sp, as
 * soon as the process exists: whether the exec worked is for
 * hb_spawn_exec_result() to tell once the process has been reaped.  A
 * negative code (err says why) when no process could be made.
 *
 * The dispositions reset are those that differ from the default when the
 * first process starts: the caller sets its signal handlers before that.
 */
int hb_spawn_start(const char *path, char *const argv[], char *const envp[], int in_fd, int out_fd, int err_fd,
		   pid_t *pid, int *pidfd, hb_spawn **sp, hb_error *err);

/* Once the process of sp has been reaped: 0 when its exec happened (or sp
 * is NULL), else a negative code and err says "cannot execute PATH: <why>"
 * (the process exited with status 127). */
int hb_spawn_exec_result(const hb_spawn *sp, hb_error *err);

/* Frees sp (NULL accepted); only once its process has been reaped, since
 * until its exec the process reads it. */
void hb_spawn_free(hb_spawn *sp);

#endif
