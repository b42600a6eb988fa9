#!/usr/bin/python3
"""ingest.py -- benchmark 3: hm-publisher's EMIT -> ACK -> published rate for 1 KiB messages from 4
clients (bench/ingest.c), over raw libzmq PUB -> SUB of the same two frames over loopback TCP in the
same run. Goal: >= 0.5. Measured twice: REQ clients (one request in flight each, as
`hm-publisher emit`), and pipelining DEALER clients (a window of requests in flight each), which
let the publisher's group commit share one journal sync among many messages. Also prints the
publisher's CPU time per EMIT (all its threads), which the machine's noise moves less than the
rates. With --repeat N, baseline and both cases are measured N times in turn and the medians
reported."""
import argparse

from common import INGEST, Scratch, machine, median, proc_cpu_s, ratio, run


def bus_run(a, window):
    """One run of the publisher with clients of the given window: (msg/s, publisher CPU us per EMIT)."""
    with Scratch(start_hem=False, pub_extra=["--journal-retention", str(a.count * 2)]) as s:
        cpu0 = proc_cpu_s(s.pub.proc.pid)[0]
        out = run([INGEST, "bus", s.pub.cmd_endpoint, s.pub.pub_endpoint, str(a.clients), str(a.count),
                   str(a.size), str(window)], timeout=600).split()
        cpu1 = proc_cpu_s(s.pub.proc.pid)[0]
    bus, failed = float(out[1]), int(out[3])
    if failed:
        raise SystemExit("ingest: %d EMITs were refused" % failed)
    return bus, (cpu1 - cpu0) * 1e6 / a.count


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--window", type=int, default=64, help="requests in flight per pipelining client")
    ap.add_argument("--repeat", type=int, default=1,
                    help="baseline and both cases measured this many times, in turn; the medians are reported")
    a = ap.parse_args()
    print("machine: " + machine())
    cases = ((1, "publisher_ingest_req"), (a.window, "publisher_ingest_pipelined"))
    raws, runs = [], {name: [] for _, name in cases}
    for i in range(a.repeat):
        raw = float(run([INGEST, "raw", str(a.count * 5), str(a.size)]).split()[1])
        raws.append(raw)
        print("run %d: raw PUB->SUB: %.0f msg/s" % (i + 1, raw), flush=True)
        for window, name in cases:
            bus, cpu_us = bus_run(a, window)
            runs[name].append((bus, cpu_us))
            print("run %d: hm-publisher EMIT->ACK->published from %d clients, %d request(s) in flight each: "
                  "%.0f msg/s, publisher CPU %.1f us per EMIT" % (i + 1, a.clients, window, bus, cpu_us),
                  flush=True)
    raw = median(raws)
    for window, name in cases:
        bus = median([r[0] for r in runs[name]])
        cpu_us = median([r[1] for r in runs[name]])
        print("%s: medians of %d run(s): %.0f msg/s (ratios %s), publisher CPU %.1f us per EMIT" % (
            name, a.repeat, bus, " ".join("%.3f" % (r[0] / b) for r, b in zip(runs[name], raws)), cpu_us))
        ratio(name, bus, raw, goal=0.5)


if __name__ == "__main__":
    main()
