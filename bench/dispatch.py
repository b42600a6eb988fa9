#!/usr/bin/python3
"""dispatch.py -- benchmark 1: events on the bus -> hooks (/bin/true) run, captured and recorded per
second at a concurrency, over the machine's raw spawn-and-reap rate of /bin/true at the same
concurrency (bench/spawn_probe). Goal: >= 0.90.

The events are journaled by hm-publisher while hem is down; hem then starts, replays them and runs
every hook, so the figure is hem's dispatch alone (replay, queue, spawn, capture, record), measured
from the first recorded start to the last recorded end."""
import argparse

from common import Scratch, api_content, emit_many, machine, ratio, spawn_rate, wait_done


def hookbus_rate(events, concurrency, command="/bin/true"):
    with Scratch(hem_extra=["--concurrency", str(concurrency), "--log-retention", str(events + 10)],
                 pub_extra=["--journal-retention", str(events + 10)]) as s:
        s.hem.allocate("NAME = bench\nTYPE = api\nCOMMAND = %s\nCALL = one.bench.dispatch\n" % command)
        s.hem.stop()
        emit_many(s.pub.cmd_endpoint, [api_content()] * events)
        s.hem.start()
        wait_done(lambda: s.hem.db("SELECT count(*) FROM hook_log WHERE state IN ('SUCCESS', 'ERROR')")[0][0]
                 >= events, timeout=600, what="every hook to run")
        bad = s.hem.db("SELECT count(*) FROM hook_log WHERE state <> 'SUCCESS'")[0][0]
        t0, t1 = s.hem.db("SELECT min(start_ms), max(end_ms) FROM hook_log")[0]
        if bad:
            raise SystemExit("dispatch: %d executions did not succeed" % bad)
        return events / ((t1 - t0) / 1000.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    print("machine: " + machine())
    base = spawn_rate(a.concurrency, a.events, ["/bin/true"])
    rate = hookbus_rate(a.events, a.concurrency)
    print("raw spawn+reap of /bin/true at concurrency %d: %.0f/s" % (a.concurrency, base))
    print("hookbus dispatch of %d events at concurrency %d: %.0f hooks/s" % (a.events, a.concurrency, rate))
    ratio("dispatch_throughput", rate, base, goal=0.90)


if __name__ == "__main__":
    main()
