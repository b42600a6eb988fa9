/* signals.c -- flag-setting signal handlers shared by the daemons. */
#include "signals.h"

#include <string.h>

volatile sig_atomic_t hb_sig_term;
volatile sig_atomic_t hb_sig_hup;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		hb_sig_term = 1;
	else if (sig == SIGHUP)
		hb_sig_hup = 1;
}

void hb_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Not inherited as ignored: the kernel would then reap the children
	 * itself, and their statuses would be lost. */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
}
