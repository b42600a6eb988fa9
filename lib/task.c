/* task.c -- a thread that runs the calls handed to it, one at a time, and hands back their result. */
#include "task.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"

struct hb_task {
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* a call was handed over, it returned, or stop */
	pthread_t thread;
	hb_task_fn *fn;          /* the call handed over; NULL once it returned */
	void *ctx;
	bool stop;
	int rc;                  /* what the last call returned, with its error */
	hb_error err;
};

static void *task_main(void *arg)
{
	hb_task *t = arg;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (t->fn == NULL && !t->stop)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->fn == NULL)
			break;
		hb_task_fn *fn = t->fn;
		void *ctx = t->ctx;
		hb_error err = { 0 };
		pthread_mutex_unlock(&t->lock);
		int rc = fn(ctx, &err);
		pthread_mutex_lock(&t->lock);
		t->rc = rc;
		t->err = err;
		t->fn = NULL;
		pthread_cond_broadcast(&t->cond);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int hb_task_new(const char *name, hb_task **out, hb_error *err)
{
	hb_task *t = calloc(1, sizeof(*t));
	int rc;

	if (t == NULL)
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	rc = hb_thread_start(&t->thread, name, task_main, t);
	if (rc != 0) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return hb_error_set(err, -HB_EIO, "cannot start the %s thread: %s", name, strerror(rc));
	}
	*out = t;
	return 0;
}

void hb_task_start(hb_task *t, hb_task_fn *fn, void *ctx)
{
	pthread_mutex_lock(&t->lock);
	t->fn = fn;
	t->ctx = ctx;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

int hb_task_wait(hb_task *t, hb_error *err)
{
	int rc;

	pthread_mutex_lock(&t->lock);
	while (t->fn != NULL)
		pthread_cond_wait(&t->cond, &t->lock);
	rc = t->rc;
	if (rc < 0 && err != NULL)
		*err = t->err;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void hb_task_free(hb_task *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
