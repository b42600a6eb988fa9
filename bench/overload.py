#!/usr/bin/python3
"""overload.py -- benchmark 7: events offered at twice hem's dispatch capacity for 30 s. The
completion rate must stay at the burst rate (measured first, in the same run: the baseline),
latency must grow only with the queue, and RSS must stay flat however many events have been
processed. The measured 30 s follow a warm-up of the same overload (30 s), during which hem's RSS
grows while SQLite's page cache of hem.db (16 MiB) fills with the growing queue; the RSS of the
whole offer is printed too."""
import argparse
import bisect
import threading
import time

from common import Scratch, machine, median, rss_kib
from dispatch import hookbus_rate
from latency import paced_acks


def latency(times, from_ms, rate):
    """Prints how an event's wait (queued -> started) compares with the queue ahead of it when it was
    queued, for the events started in each third of the run after from_ms: if latency grows only
    with the queue, the wait per record ahead stays the same from the first third to the last
    (while the queue grows), one completion interval."""
    queued = sorted(q for q, _ in times)
    started = sorted(st for _, st in times if st is not None)
    thirds = [[], [], []]
    if not started or rate <= 0:
        print("RESULT overload_latency             no hook started in the measured window: nothing to compare")
        return
    t_first = max(from_ms, started[0])
    t_span = max(1, started[-1] - t_first + 1)
    for q, st in times:
        if st is None or st < t_first:
            continue
        ahead = bisect.bisect_left(queued, q) - bisect.bisect_right(started, q)
        thirds[min(2, (st - t_first) * 3 // t_span)].append((st - q, max(0, ahead)))
    if not all(thirds):
        print("RESULT overload_latency             too few events started to compare the thirds of the run")
        return
    per = [median([w / max(1, a) for w, a in t]) for t in thirds]
    if per[0] <= 0:
        print("RESULT overload_latency             no wait in the first third of the run (no queue): nothing to compare")
        return
    print("wait queued -> started, by third of the measured window in which the hook started: p50 %s ms, with p50 %s records ahead; per record ahead %s ms"
          % (" / ".join("%.0f" % median([w for w, _ in t]) for t in thirds),
             " / ".join("%.0f" % median([a for _, a in t]) for t in thirds),
             " / ".join("%.3f" % p for p in per)))
    print("RESULT overload_latency             wait per record ahead, last third %.3f ms over first third %.3f ms: "
          "ratio %.2f (1: latency grows only with the queue); one completion every %.3f ms (last third): ratio %.2f"
          % (per[2], per[0], per[2] / per[0], 1000.0 / rate, per[2] / (1000.0 / rate)))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=30, help="the measured overload")
    ap.add_argument("--warmup", type=float, default=30,
                    help="the same overload before it, while SQLite's page cache of hem.db fills")
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    print("machine: " + machine())
    # One burst of 2,000 moves with the machine by a third from run to run, and it sets both the
    # load offered and the baseline: the median of three.
    bursts = [hookbus_rate(2000, a.concurrency) for _ in range(3)]
    burst = median(bursts)
    offered = 2 * burst
    print("burst dispatch rate %.0f hooks/s (median of %s); offering %.0f events/s for %.0f s, the last %.0f s measured"
          % (burst, ", ".join("%.0f" % b for b in bursts), offered, a.warmup + a.seconds, a.seconds))
    total = int(offered * (a.warmup + a.seconds))
    with Scratch(hem_extra=["--concurrency", str(a.concurrency), "--log-retention", str(total + 10)],
                 pub_extra=["--journal-retention", str(total + 10)]) as s:
        s.hem.allocate("NAME = o\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.overload\n")
        paced_acks(s.pub.cmd_endpoint, 10, 0.2, "one.bench.overload")
        rss = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                rss.append((time.time(), rss_kib(s.hem.proc.pid)))
                time.sleep(0.25)
        th = threading.Thread(target=sample)
        th.start()
        t0 = time.time()
        acks = paced_acks(s.pub.cmd_endpoint, offered, a.warmup + a.seconds, "one.bench.overload")
        offer_end = time.time()
        stop.set()
        th.join()
        rows = s.hem.db("SELECT end_ms FROM hook_exec WHERE state = 'SUCCESS' AND end_ms >= ?", (int(t0 * 1000),))
        times = s.hem.db("SELECT queued_ms, start_ms FROM hook_exec WHERE queued_ms >= ?", (int(t0 * 1000),))
        pending = s.hem.db("SELECT count(*) FROM hook_exec WHERE state = 'PENDING'")[0][0]
    # The measured window: the last `seconds` of the offer (the paced load ends on time, or later
    # when the machine held it back).
    t_measure = offer_end - a.seconds
    per_s = {}
    for end_ms, in rows:
        sec = int(end_ms / 1000 - t0)
        per_s[sec] = per_s.get(sec, 0) + 1
    secs = sorted(k for k in per_s if k < int(offer_end - t0))
    measured = [k for k in secs if k >= int(t_measure - t0) + 1]
    third = max(1, len(measured) // 3)
    first = [per_s[k] for k in measured[:third]]
    last = [per_s[k] for k in measured[-third:]]
    rate_first = sum(first) / max(1, len(first))
    rate_last = sum(last) / max(1, len(last))
    print("offered %d events (%d acked); %d hooks completed while offering, %d still queued at the end"
          % (total, len(acks), sum(per_s[k] for k in secs), pending))
    print("completions per second over the run (the measured window from second %d): %s"
          % (int(t_measure - t0) + 1, " ".join(str(per_s[k]) for k in secs)))
    print("RESULT overload_completion          measured window: first third %.0f/s, last third %.0f/s; over the burst "
          "rate %.0f/s: ratio %.2f (last third)" % (rate_first, rate_last, burst, rate_last / burst))
    latency(times, int(t_measure * 1000), rate_last)
    # hem's RSS grows while SQLite's page cache of hem.db (16 MiB, src: hem/store.c) fills with the
    # growing queue during the warm-up, then must stay flat however many more events are processed.
    every = max(1, int(5 / 0.25))
    print("hem RSS every 5 s from the start of the offer (KiB): %s" % " ".join(str(v) for _, v in rss[::every]))
    window = [v for t, v in rss if t >= t_measure] or [rss[-1][1]]
    r0, rm, r1 = window[0], window[len(window) // 2], window[-1]
    print("RESULT overload_rss                 RSS %d KiB at the start of the measured window, %d KiB half-way, "
          "%d KiB at the end: end over start ratio %.2f (%d KiB before the offer)"
          % (r0, rm, r1, r1 / r0, rss[0][1]))


if __name__ == "__main__":
    main()
