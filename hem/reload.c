/* reload.c -- hem's SIGHUP handling: log reopen and the run-time configuration keys. */
#include "reload.h"

#include <inttypes.h>
#include <stdlib.h>

#include "confsource.h"
#include "hem.h"
#include "log.h"
#include "notify.h"

/* The keys of hem.conf that SIGHUP applies. */
static const char *const runtime_keys[] = { "DEBUG_LEVEL", "CONCURRENCY", "BLOCKING_CONCURRENCY",
					    "DEFAULT_TIMEOUT", "LOG_RETENTION", "OUTPUT_LIMIT", NULL };

/* Makes room for n concurrency slots (never shrinks: running hooks keep
 * their slots, dispatch honours h->concurrency). */
static int slots_reserve(struct hem *h, size_t n, zmq_pollitem_t **items)
{
	struct hem_run *run;
	zmq_pollitem_t *it;

	if (n <= h->nrun)
		return 0;
	it = realloc(*items, HEM_POLL_ITEMS(n) * sizeof(*it));
	if (it == NULL)
		return -HB_ENOMEM;
	*items = it;
	run = realloc(h->run, n * sizeof(*run));
	if (run == NULL)
		return -HB_ENOMEM;
	for (size_t i = h->nrun; i < n; i++) {
		run[i] = (struct hem_run){ 0 };
		run[i].hook_id = -1;
	}
	h->run = run;
	h->nrun = n;
	return 0;
}

int hem_reload(struct hem *h, zmq_pollitem_t **items)
{
	hb_config *fresh = NULL;
	hb_error err = { 0 };
	int64_t concurrency = h->concurrency, blocking = h->blocking_concurrency;
	int rc = 0;

	hb_notify_reloading();
	if (hb_config_source_reload(h->cfg, runtime_keys, hb_hem_check, &fresh, &err) < 0) {
		hb_log(HB_LOG_ERROR, "SIGHUP: configuration not reloaded: %s", err.msg);
		hb_notify_ready(NULL);
		return 0;
	}
	hb_config_int(fresh, "CONCURRENCY", 1, 4096, &concurrency, &err);
	hb_config_int(fresh, "BLOCKING_CONCURRENCY", 0, 4096, &blocking, &err);
	hb_config_int(fresh, "DEFAULT_TIMEOUT", 0, INT32_MAX, &h->default_timeout, &err);
	hb_config_int(fresh, "LOG_RETENTION", 0, INT32_MAX, &h->retention, &err);
	hb_config_int(fresh, "OUTPUT_LIMIT", 0, 64 << 20, &h->output_limit, &err);
	hb_config_free(fresh);
	rc = slots_reserve(h, (size_t)(concurrency + blocking), items);
	if (rc < 0) {
		hb_log(HB_LOG_ERROR, "SIGHUP: out of memory: CONCURRENCY stays %" PRId64 " and BLOCKING_CONCURRENCY %"
		       PRId64, h->concurrency, h->blocking_concurrency);
	} else {
		h->concurrency = concurrency;
		h->blocking_concurrency = blocking;
	}
	h->dispatch_needed = true;
	hb_log(HB_LOG_INFO, "SIGHUP: log reopened; concurrency %" PRId64 ", default timeout %" PRId64
	       ", log retention %" PRId64 ", output limit %" PRId64 ", blocking concurrency %" PRId64, h->concurrency,
	       h->default_timeout, h->retention, h->output_limit, h->blocking_concurrency);
	hb_notify_ready(NULL);
	return rc;
}
