/* publisher.h -- the hm-publisher daemon: PUB bus, ROUTER command endpoints, journal. */
#ifndef HB_PUBLISHER_H
#define HB_PUBLISHER_H

#include "config.h"
#include "error.h"

/* The keys of hm-publisher.conf with their defaults (DESIGN section 10). */
extern const hb_config_key hb_publisher_config_keys[];

/* Checks every value of cfg (numbers, ranges, endpoints) without binding or
 * opening anything. */
int hb_publisher_check(const hb_config *cfg, hb_error *err);

/* Runs the daemon on cfg until SIGTERM or SIGINT: binds the endpoints, opens
 * the journal and serves EMIT and REPLAY.  Returns 0 after a clean stop or a
 * negative code when it could not start or the journal failed for good. */
int hb_publisher_run(const hb_config *cfg, hb_error *err);

#endif
