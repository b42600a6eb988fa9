#!/usr/bin/python3
"""backlog.py -- records that wait in hem's queue must not slow the dispatch of the others.

1. A hook with CONCURRENCY = 1 and a backlog: its dispatch rate (/bin/true, events journaled
   while hem is down, then replayed, as dispatch.py) with hem's concurrency at 8, over the same
   backlog run one at a time by hem's own concurrency of 1 and a hook without a limit. Both run
   the executions one after the other; what differs is that the first queue holds a whole
   backlog that the hook's limit holds back.
2. Delayed retries ahead in the queue: a failing hook with RETRIES = 1 and RETRY_DELAY = 3600
   leaves that many retries waiting for their time, then the dispatch of 2,000 events as
   dispatch.py, over the same dispatch with no retry waiting.

Each at growing backlogs: the ratios must stay flat (hem may not pay, for each execution it
starts, per record that waits)."""
import argparse

from common import api_content, emit_many, machine, wait_for
from dispatch import hookbus_rate, rate_pairs


def delayed_retries(n):
    """A prepare() for hookbus_rate(): n failed executions whose retries wait an hour."""
    def prepare(s):
        hid = s.hem.allocate("NAME = fail\nTYPE = api\nCOMMAND = /bin/false\nCALL = one.bench.fail\n"
                             "RETRIES = 1\nRETRY_DELAY = 3600\n")
        emit_many(s.pub.cmd_endpoint, [api_content("one.bench.fail")] * n)
        wait_for(lambda: s.hem.db("SELECT count(*) FROM hook_exec WHERE hook_id = ? AND state = 'PENDING' "
                                  "AND attempt = 2", (hid,))[0][0] >= n, timeout=600,
                 what="%d retries to wait" % n)
    return prepare


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backlogs", default="1000,4000", help="comma-separated numbers of records waiting")
    ap.add_argument("--events", type=int, default=2000, help="events dispatched behind the delayed retries")
    ap.add_argument("--repeat", type=int, default=1,
                    help="baseline and measured run this many times per backlog, alternating")
    a = ap.parse_args()
    print("machine: " + machine())
    backlogs = [int(n) for n in a.backlogs.split(",")]
    for n in backlogs:
        rate_pairs("backlog_%d_concurrency_1" % n, a.repeat, lambda cpu: hookbus_rate(n, 1, cpu=cpu),
                   lambda cpu: hookbus_rate(n, 8, cpu=cpu, template="CONCURRENCY = 1\n"))
    for n in backlogs:
        rate_pairs("dispatch_behind_%d_delayed_retries" % n, a.repeat, lambda cpu: hookbus_rate(a.events, 8, cpu=cpu),
                   lambda cpu: hookbus_rate(a.events, 8, cpu=cpu, prepare=delayed_retries(n)))


if __name__ == "__main__":
    main()
