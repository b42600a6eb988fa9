/* pubreload.c -- hm-publisher's SIGHUP handling: log reopen and the run-time configuration keys. */
#include "pubreload.h"

#include <inttypes.h>

#include "confsource.h"
#include "log.h"
#include "notify.h"
#include "publisher.h"

/* The keys of hm-publisher.conf that SIGHUP applies. */
static const char *const runtime_keys[] = { "DEBUG_LEVEL", NULL };

void publisher_reload(const hb_config *running)
{
	hb_config *fresh = NULL;
	hb_error err = { 0 };
	int64_t level = 0;

	hb_notify_reloading();
	if (hb_config_source_reload(running, runtime_keys, hb_publisher_check, &fresh, &err) < 0) {
		hb_log(HB_LOG_ERROR, "SIGHUP: configuration not reloaded: %s", err.msg);
	} else {
		hb_config_int(fresh, "DEBUG_LEVEL", 0, 3, &level, &err);
		hb_log(HB_LOG_INFO, "SIGHUP: log reopened, DEBUG_LEVEL %" PRId64, level);
	}
	hb_config_free(fresh);
	hb_notify_ready(NULL);
}
