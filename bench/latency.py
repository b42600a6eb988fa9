#!/usr/bin/python3
"""latency.py -- benchmark 2: time from an event's ACK to its hook process running, p50 and p99, at
100 and 1,000 events/s, over the bare posix_spawn-to-running time of the same program
(bench/stamp, which notes when it starts). Goal: p50 under 1 ms above the spawn itself."""
import argparse
import os

from common import PACE, SPAWN, STAMP, Scratch, api_content, machine, percentile, run, wait_for


def paced_acks(endpoint, rate, seconds, call="one.bench.latency"):
    """EMITs API events of `call` at `rate` events/s for `seconds` from one DEALER (hb-bench-pace, in C,
    so that the load takes little of the machine it loads); returns {seq: ack ns (CLOCK_REALTIME)}."""
    out = run([PACE, endpoint, str(rate), str(seconds), api_content(call)], timeout=seconds + 120)
    acks = {}
    for line in out.splitlines():
        seq, ns = line.split()
        acks[int(seq)] = int(ns)
    return acks


def hookbus_latency(rate, seconds, concurrency):
    with Scratch(hem_extra=["--concurrency", str(concurrency), "--log-retention", "100000"]) as s:
        stamps = os.path.join(s.dir, "stamps")
        s.hem.allocate('NAME = bench\nTYPE = api\nCOMMAND = %s\nARGUMENTS = "%s"\nCALL = one.bench.latency\n'
                       % (STAMP, stamps))
        # Past the subscription's slow-joiner window before measuring.
        paced_acks(s.pub.cmd_endpoint, 10, 0.2)
        wait_for(lambda: os.path.exists(stamps), timeout=30, what="the warm-up hook")
        os.unlink(stamps)
        acks = paced_acks(s.pub.cmd_endpoint, rate, seconds)

        def lines():
            try:
                with open(stamps) as f:
                    return f.read().split("\n")[:-1]
            except FileNotFoundError:
                return []
        wait_for(lambda: len(lines()) >= len(acks), timeout=300, what="every hook to start")
        d = []
        for line in lines():
            seq, ns = line.split()
            if int(seq) in acks:
                d.append((int(ns) - acks[int(seq)]) / 1e6)
        return d


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rates", default="100,1000")
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    print("machine: " + machine())
    base_file = "/tmp/hookbus-bench-stamp-%d" % os.getpid()
    try:
        out = run([SPAWN, "start", "2000", STAMP, base_file]).split()
    finally:
        if os.path.exists(base_file):
            os.unlink(base_file)
    b50, b99 = float(out[2]), float(out[4])
    print("bare posix_spawn -> running: p50 %.3f ms  p99 %.3f ms" % (b50, b99))
    for rate in (int(r) for r in a.rates.split(",")):
        d = hookbus_latency(rate, a.seconds, a.concurrency)
        p50, p99 = percentile(d, 0.5), percentile(d, 0.99)
        print("RESULT latency_at_%d_per_s          p50 %.3f ms (+%.3f over spawn)  p99 %.3f ms (+%.3f)  "
              "ratio p50 %.2f  goal p50 < spawn + 1 ms: %s"
              % (rate, p50, p50 - b50, p99, p99 - b99, p50 / b50, "met" if p50 - b50 < 1.0 else "NOT met"),
              flush=True)


if __name__ == "__main__":
    main()
