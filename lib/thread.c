/* thread.c -- starts worker threads that inherit a mask blocking every signal. */
#include "thread.h"

#include <signal.h>

int hb_thread_start(pthread_t *thread, const char *name, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	/* The new thread inherits the creating thread's mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0 && name != NULL)
		pthread_setname_np(*thread, name);
	return rc;
}
