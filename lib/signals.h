/* signals.h -- daemon signal handling: handlers only set flags that the event loop reads. */
#ifndef HB_SIGNALS_H
#define HB_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t hb_sig_term;  /* SIGTERM or SIGINT arrived */
extern volatile sig_atomic_t hb_sig_hup;   /* SIGHUP arrived (reopen logs, reload) */
extern volatile sig_atomic_t hb_sig_chld;  /* SIGCHLD arrived */

/* Installs the flag-setting handlers for SIGTERM, SIGINT, SIGHUP and SIGCHLD
 * (without SA_RESTART, so that a blocking poll returns EINTR) and ignores
 * SIGPIPE. */
void hb_signals_install(void);

#endif
