/* notify.h -- telling the service manager (systemd's sd_notify) that a daemon is ready, reloading or stopping. */
#ifndef HB_NOTIFY_H
#define HB_NOTIFY_H

/* Each call is a no-op when the build has no libsystemd (HB_SYSTEMD off) or
 * the process was not started by systemd with Type=notify; status is a
 * one-line description shown by `systemctl status` (may be NULL). */
void hb_notify_ready(const char *status);
void hb_notify_reloading(void);
void hb_notify_stopping(void);

#endif
