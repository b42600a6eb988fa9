#!/usr/bin/python3
"""backlog.py -- a hook with CONCURRENCY = 1 and a backlog: its dispatch rate (/bin/true, events
journaled while hem is down, then replayed, as dispatch.py) with hem's concurrency at 8, over the
same backlog run one at a time by hem's own concurrency of 1 and a hook without a limit. Both run
the hook's executions one after the other; what differs is only that the first queue holds a
whole backlog that the hook's limit holds back. Measured at growing backlogs: the ratio must stay
flat (hem's dispatch may not pay per record held back for each execution it starts)."""
import argparse

from common import machine, median, ratio
from dispatch import hookbus_rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backlogs", default="1000,4000", help="comma-separated numbers of queued events")
    ap.add_argument("--repeat", type=int, default=1,
                    help="baseline and limited hook measured this many times per backlog, alternating")
    a = ap.parse_args()
    print("machine: " + machine())
    for events in [int(n) for n in a.backlogs.split(",")]:
        runs = []
        for i in range(a.repeat):
            base_cpu, cpu = {}, {}
            base = hookbus_rate(events, 1, cpu=base_cpu)
            rate = hookbus_rate(events, 8, cpu=cpu, template="CONCURRENCY = 1\n")
            runs.append((base, rate))
            print("backlog %d, run %d: hem concurrency 1: %.0f hooks/s (hem %.3f ms CPU per execution); "
                  "CONCURRENCY = 1 under hem concurrency 8: %.0f hooks/s (hem %.3f ms); ratio %.3f"
                  % (events, i + 1, base, base_cpu["hem_ms"], rate, cpu["hem_ms"], rate / base), flush=True)
        base = median([r[0] for r in runs])
        ratio("backlog_%d_concurrency_1" % events, median([r[1] / r[0] for r in runs]) * base, base)


if __name__ == "__main__":
    main()
