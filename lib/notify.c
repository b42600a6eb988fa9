/* notify.c -- sd_notify() readiness, reload and stop notices through libsystemd, loaded only under systemd. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef HB_SYSTEMD
#include <systemd/sd-daemon.h>

#include "dynlib.h"
#endif

/* Sends state to systemd when the process runs under it (NOTIFY_SOCKET is
 * set); libsystemd is loaded on the first notice (see dynlib.h). */
static void notify(const char *state)
{
#ifdef HB_SYSTEMD
	static __typeof__(sd_notify) *fn;
	void *f;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	if (fn == NULL) {
		if (hb_dynlib_sym(HB_SYSTEMD_SONAME, "sd_notify", &f, NULL) < 0)
			return;
		fn = (__typeof__(sd_notify) *)f;
	}
	fn(0, state);
#else
	(void)state;
#endif
}

void hb_notify_ready(const char *status)
{
	char buf[512];

	if (status == NULL) {
		notify("READY=1");
		return;
	}
	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status);
	notify(buf);
}

void hb_notify_reloading(void)
{
	notify("RELOADING=1");
}

void hb_notify_stopping(void)
{
	notify("STOPPING=1");
}
