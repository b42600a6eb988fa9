#!/usr/bin/python3
"""overload.py -- benchmark 7: events offered at twice hem's dispatch capacity for 30 s. The
completion rate must stay at the burst rate (measured first, in the same run: the baseline),
latency must grow only with the queue, and RSS must stay flat however many events have been
processed."""
import argparse
import threading
import time

from common import Scratch, machine, rss_kib
from dispatch import hookbus_rate
from latency import paced_acks


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    print("machine: " + machine())
    burst = hookbus_rate(2000, a.concurrency)
    offered = 2 * burst
    print("burst dispatch rate %.0f hooks/s; offering %.0f events/s for %.0f s" % (burst, offered, a.seconds))
    total = int(offered * a.seconds)
    with Scratch(hem_extra=["--concurrency", str(a.concurrency), "--log-retention", str(total + 10)],
                 pub_extra=["--journal-retention", str(total + 10)]) as s:
        s.hem.allocate("NAME = o\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.overload\n")
        paced_acks(s.pub.cmd_endpoint, 10, 0.2, "one.bench.overload")
        rss = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                rss.append((time.monotonic(), rss_kib(s.hem.proc.pid)))
                time.sleep(0.25)
        th = threading.Thread(target=sample)
        th.start()
        t0 = time.time()
        acks = paced_acks(s.pub.cmd_endpoint, offered, a.seconds, "one.bench.overload")
        offer_end = time.time()
        stop.set()
        th.join()
        rows = s.hem.db("SELECT end_ms, start_ms - queued_ms FROM hook_exec WHERE state = 'SUCCESS' AND end_ms >= ?",
                        (int(t0 * 1000),))
        pending = s.hem.db("SELECT count(*) FROM hook_exec WHERE state = 'PENDING'")[0][0]
    per_s = {}
    for end_ms, _ in rows:
        sec = int(end_ms / 1000 - t0)
        per_s[sec] = per_s.get(sec, 0) + 1
    secs = sorted(k for k in per_s if k < int(offer_end - t0))
    first = [per_s[k] for k in secs[: len(secs) // 3]]
    last = [per_s[k] for k in secs[-(len(secs) // 3):]]
    rate_first = sum(first) / max(1, len(first))
    rate_last = sum(last) / max(1, len(last))
    print("offered %d events (%d acked); %d hooks completed while offering, %d still queued at the end"
          % (total, len(acks), sum(per_s[k] for k in secs), pending))
    print("completions per second over the run: %s" % " ".join(str(per_s[k]) for k in secs))
    print("RESULT overload_completion          first third %.0f/s, last third %.0f/s; over the burst rate %.0f/s: "
          "ratio %.2f (last third)" % (rate_first, rate_last, burst, rate_last / burst))
    # hem's RSS grows while SQLite's page cache of hem.db (16 MiB, src: hem/store.c) fills with the
    # growing queue, then must stay flat: the figure is the second half of the run.
    every = max(1, int(5 / 0.25))
    print("hem RSS every 5 s (KiB): %s" % " ".join(str(v) for _, v in rss[::every]))
    r0 = rss[min(3, len(rss) - 1)][1]
    rm = rss[len(rss) // 2][1]
    r1 = rss[-1][1]
    print("RESULT overload_rss                 RSS %d KiB after warm-up, %d KiB half-way, %d KiB at the end: "
          "end over half-way ratio %.2f" % (r0, rm, r1, r1 / rm))


if __name__ == "__main__":
    main()
