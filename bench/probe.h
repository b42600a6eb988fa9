/* probe.h -- what the C probes of bench/ share: a clock in nanoseconds and, for those on libzmq, the end of a failed call. */
#ifndef HB_BENCH_PROBE_H
#define HB_BENCH_PROBE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t probe_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#ifdef ZMQ_VERSION
/* Ends the probe after a failed libzmq call: "PROG: WHAT: <libzmq's reason>". */
static inline _Noreturn void probe_zmq_die(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, zmq_strerror(zmq_errno()));
	exit(1);
}
#endif

#endif
