/* task.h -- one call at a time run by a thread of its own, while the caller goes on. */
#ifndef HB_TASK_H
#define HB_TASK_H

#include "error.h"

typedef struct hb_task hb_task;

/* The work of a task: 0, or a negative code with err set. */
typedef int hb_task_fn(void *ctx, hb_error *err);

/* Starts the task's thread, named name (at most 15 bytes, as top -H shows
 * it), which blocks every signal and waits for work. */
int hb_task_new(const char *name, hb_task **out, hb_error *err);

/* Hands fn(ctx) to the thread and returns at once.  The task must be idle:
 * every hb_task_start() is followed by hb_task_wait() before the next. */
void hb_task_start(hb_task *t, hb_task_fn *fn, void *ctx);

/* Waits for the call handed over by hb_task_start() to return; returns
 * what it returned, with its error in err. */
int hb_task_wait(hb_task *t, hb_error *err);

/* Waits for a call still running, then stops and joins the thread.  NULL
 * is allowed. */
void hb_task_free(hb_task *t);

#endif
