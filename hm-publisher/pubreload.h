/* pubreload.h -- hm-publisher's SIGHUP: reopen the log file and apply what can change at run time. */
#ifndef HB_PUBLISHER_RELOAD_H
#define HB_PUBLISHER_RELOAD_H

#include "config.h"

/* Reopens a LOG file and reads the configuration again; DEBUG_LEVEL takes
 * effect at once, every other key at the next restart (logged as such).  A
 * bad file is logged and changes nothing.  running is the configuration the
 * daemon runs on. */
void publisher_reload(const hb_config *running);

#endif
