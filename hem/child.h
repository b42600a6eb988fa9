/* child.h -- starting one hook process (no shell, own process group) and collecting its output. */
#ifndef HB_CHILD_H
#define HB_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spawn.h"

/* Output captured from one pipe: the first `limit` bytes are kept, the rest
 * only counted. */
typedef struct hb_capture {
	char *buf;        /* owned */
	size_t len;
	size_t limit;
	size_t dropped;   /* bytes beyond the limit */
	int fd;           /* -1 once closed */
} hb_capture;

/* A running hook process.  Everything in it is owned and released by
 * hb_child_release(). */
typedef struct hb_child {
	pid_t pid;
	int pidfd;            /* readable when the process has exited; -1 after reaping */
	hb_capture out;
	hb_capture err;
	int in_fd;            /* stdin pipe while data remains to be written, else -1 */
	char *in_data;        /* owned copy of what goes to stdin */
	size_t in_len;
	size_t in_off;
	bool exited;
	int status;           /* waitpid status once exited */
	hb_spawn *spawn;      /* until the reaping: the exec reads it, a failed exec leaves its errno there */
	char *exec_error;     /* owned: why the exec failed (the process then exits 127), else NULL */
} hb_child;

/* Starts path with argv (argv[0] included, NULL-terminated) and envp in a
 * new process group, stdin from stdin_data (NULL: /dev/null), stdout and
 * stderr captured up to limit bytes each.  Signal dispositions and the mask
 * are reset in the child and no descriptor of the caller leaks into it.
 * Returns 0 with *c filled as soon as the process exists, without waiting
 * for its exec (hb_spawn_start()): an exec that fails (missing, not
 * executable, ...) ends the process with status 127 and is told in
 * c->exec_error once hb_child_reap() has seen it.  A negative code (err
 * says why) when no process could be made. */
int hb_child_spawn(const char *path, char *const argv[], char *const envp[], const char *stdin_data,
		   size_t stdin_len, size_t limit, hb_child *c, hb_error *err);

/* Reads what is available on a capture pipe; closes it on end of file. */
void hb_capture_read(hb_capture *cap);

/* Writes what the stdin pipe takes now; closes it when all is written or
 * the hook closed its end. */
void hb_child_write_stdin(hb_child *c);

/* Notes how the exec went (c->exec_error) and reaps the process if it has
 * exited (non-blocking); returns true once it has. */
bool hb_child_reap(hb_child *c);

/* Sends sig to the child's whole process group. */
void hb_child_kill(const hb_child *c, int sig);

/* Whether any process of the child's process group is still alive (the
 * leader may have been reaped while members it started live on). */
bool hb_child_group_alive(const hb_child *c);

/* Closes every descriptor and frees the buffers (the process must have been
 * reaped, or is killed with SIGKILL and reaped here). */
void hb_child_release(hb_child *c);

/* Checks that path may be run as a hook: a regular file not writable by
 * others, owned by root or by uid, and not group-writable unless its group
 * is root's or gid.  err says what is wrong.  Whether it may be executed is
 * the exec's to tell (hb_child_spawn(): "cannot execute PATH: why"). */
int hb_hook_file_check(const char *path, uid_t uid, gid_t gid, hb_error *err);

/* Resolves COMMAND: an absolute path stays; a relative one becomes
 * base/COMMAND, refused when its real path (symlinks followed) leaves base's
 * real path.  *out is a new string the caller frees. */
int hb_hook_path_resolve(const char *base, const char *command, char **out, hb_error *err);

#endif
