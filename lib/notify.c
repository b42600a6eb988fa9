/* notify.c -- sd_notify() readiness, reload and stop notices, compiled out without libsystemd. */
#include "notify.h"

#include <stddef.h>

#ifdef HB_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void hb_notify_ready(const char *status)
{
#ifdef HB_SYSTEMD
	if (status != NULL)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
#else
	(void)status;
#endif
}

void hb_notify_reloading(void)
{
#ifdef HB_SYSTEMD
	sd_notify(0, "RELOADING=1");
#endif
}

void hb_notify_stopping(void)
{
#ifdef HB_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}
