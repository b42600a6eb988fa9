/* pool.h -- a parallel loop over a daemon's batch: the calling thread and a few helper threads share its items. */
#ifndef HB_POOL_H
#define HB_POOL_H

#include <stddef.h>

#include "error.h"

typedef struct hb_pool hb_pool;

/* Called once for each item i of a round, by the thread working lane
 * `lane` (0 is the caller's; 1..helpers are the helpers'): a lane is never
 * used by two threads at once, so what the callback keeps per lane (a
 * parser, a validation context) needs no lock. */
typedef void hb_pool_fn(void *ctx, size_t lane, size_t i);

/* The number of helper threads worth starting here: one fewer than the CPUs
 * this process may run on (its affinity, and its cgroup's CPU quota when
 * one is set: hb_cpu_quota()), at most max. */
size_t hb_pool_helpers_wanted(size_t max);

/* Starts helpers threads named name (at most 15 bytes, as top -H and
 * /proc show it; 0 helpers is allowed: every round then runs in the caller
 * alone).  A round of fewer than min items also runs in the caller
 * alone: waking a helper costs a system call and, on a busy machine, a
 * wait for the helper to finish an item it was preempted in, which a few
 * items do not repay.  The helpers block every signal. */
int hb_pool_new(size_t helpers, size_t min, const char *name, hb_pool **out, hb_error *err);

/* The number of lanes: helpers + 1. */
size_t hb_pool_lanes(const hb_pool *p);

/* Runs fn(ctx, lane, i) for every i in [0, n), each exactly once, and
 * returns when all have returned.  The caller works items itself from the
 * start; a helper joins only while items are left to take, so a round never
 * waits for a helper that has not been scheduled yet.  Rounds are run by
 * one thread at a time. */
void hb_pool_for(hb_pool *p, size_t n, hb_pool_fn *fn, void *ctx);

/* Stops and joins the helpers.  NULL is allowed. */
void hb_pool_free(hb_pool *p);

#endif
