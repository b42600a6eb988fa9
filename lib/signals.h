/* signals.h -- daemon signal handling: handlers only set flags that the event loop reads. */
#ifndef HB_SIGNALS_H
#define HB_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t hb_sig_term;  /* SIGTERM or SIGINT arrived */
extern volatile sig_atomic_t hb_sig_hup;   /* SIGHUP arrived (reopen logs, reload) */

/* Installs the flag-setting handlers for SIGTERM, SIGINT and SIGHUP (without
 * SA_RESTART, so that a blocking poll returns EINTR) and ignores SIGPIPE.
 * SIGCHLD gets its default disposition, even when it was inherited ignored
 * (the kernel would then reap the children itself, statuses lost): the
 * kernel discards it without interrupting anything.  hem learns of its
 * children's ends from their pidfds; a handler would only cost it a signal
 * delivery and an interrupted poll per hook. */
void hb_signals_install(void);

#endif
