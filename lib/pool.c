/* pool.c -- helper threads that take items of the caller's current round from a shared counter. */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpuquota.h"
#include "thread.h"

struct helper {
	hb_pool *pool;
	size_t lane;
	pthread_t thread;
};

struct hb_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;     /* a round began, or stop */
	pthread_cond_t idle;     /* a helper left a round */
	struct helper *helpers;
	size_t nhelpers;
	size_t min;              /* rounds of fewer items run in the caller alone */
	bool stop;
	uint64_t round;          /* the number of rounds begun */
	hb_pool_fn *fn;          /* the current round, valid while it runs */
	void *ctx;
	size_t n;
	atomic_size_t next;      /* the next item to take */
	size_t working;          /* helpers inside the current round */
};

/* Takes and runs items of the current round until none is left. */
static void pool_drain(hb_pool *p, size_t lane)
{
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->fn(p->ctx, lane, i);
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	hb_pool *p = h->pool;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->round == seen && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		seen = p->round;
		/* Joined under the lock, and only while items are left: the
		 * caller, which waits for `working` to fall to zero once it
		 * finds none left, then waits for this helper's items too. */
		if (atomic_load(&p->next) >= p->n)
			continue;
		p->working++;
		pthread_mutex_unlock(&p->lock);
		pool_drain(p, h->lane);
		pthread_mutex_lock(&p->lock);
		if (--p->working == 0)
			pthread_cond_signal(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

size_t hb_pool_helpers_wanted(size_t max)
{
	cpu_set_t set;
	size_t cpus = 1, quota = hb_cpu_quota("/sys/fs/cgroup", "/proc/self/cgroup");

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		cpus = (size_t)CPU_COUNT(&set);
	if (quota > 0 && quota < cpus)
		cpus = quota;
	return cpus - 1 < max ? cpus - 1 : max;
}

int hb_pool_new(size_t helpers, size_t min, const char *name, hb_pool **out, hb_error *err)
{
	hb_pool *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL || (helpers > 0 && (p->helpers = calloc(helpers, sizeof(*p->helpers))) == NULL)) {
		free(p);
		return hb_error_set(err, -HB_ENOMEM, "out of memory");
	}
	p->min = min;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	atomic_init(&p->next, 0);
	for (size_t i = 0; i < helpers; i++) {
		p->helpers[i] = (struct helper){ .pool = p, .lane = i + 1 };
		rc = hb_thread_start(&p->helpers[i].thread, name, helper_main, &p->helpers[i]);
		if (rc != 0) {
			hb_pool_free(p);
			return hb_error_set(err, -HB_EIO, "cannot start a helper thread: %s", strerror(rc));
		}
		p->nhelpers++;
	}
	*out = p;
	return 0;
}

size_t hb_pool_lanes(const hb_pool *p)
{
	return p->nhelpers + 1;
}

void hb_pool_for(hb_pool *p, size_t n, hb_pool_fn *fn, void *ctx)
{
	if (p->nhelpers == 0 || n < 2 || n < p->min) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, 0, i);
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	atomic_store(&p->next, 0);
	p->round++;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	pool_drain(p, 0);
	pthread_mutex_lock(&p->lock);
	while (p->working > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void hb_pool_free(hb_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nhelpers; i++)
		pthread_join(p->helpers[i].thread, NULL);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->helpers);
	free(p);
}
