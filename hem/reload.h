/* reload.h -- hem's SIGHUP: reopen the log file and apply the configuration keys that can change at run time. */
#ifndef HB_HEM_RELOAD_H
#define HB_HEM_RELOAD_H

#include <zmq.h>

struct hem;

/* Reopens a LOG file and reads the configuration again.  DEBUG_LEVEL,
 * CONCURRENCY, DEFAULT_TIMEOUT, LOG_RETENTION and OUTPUT_LIMIT take effect at
 * once (for executions that start from now on); every other key at the next
 * restart, which is logged.  A bad file is logged and changes nothing.
 * *items is the event loop's poll array, which grows with
 * the slots when CONCURRENCY grows; returns a negative code only when that
 * allocation fails (hem keeps running at the old concurrency). */
int hem_reload(struct hem *h, zmq_pollitem_t **items);

#endif
