/* thread.h -- a daemon's worker threads: every signal blocked, named for top -H. */
#ifndef HB_THREAD_H
#define HB_THREAD_H

#include <pthread.h>

/* Starts fn(arg) in a new thread with every signal blocked (SIGTERM and
 * SIGHUP must interrupt the daemon's poll, not land in a worker), named
 * name (at most 15 bytes, as top -H and /proc show it; NULL keeps the
 * process's name).  Returns pthread_create()'s result: 0 or an error number. */
int hb_thread_start(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg);

#endif
