#!/usr/bin/python3
"""ingest.py -- benchmark 3: hm-publisher's EMIT -> ACK -> published rate for 1 KiB messages from 4
clients (bench/ingest.c), over raw libzmq PUB -> SUB of the same two frames over loopback TCP in the
same run. Goal: >= 0.5. Measured twice: REQ clients (one request in flight each, as
`hm-publisher emit`), and pipelining DEALER clients (a window of requests in flight each), which
let the publisher's group commit share one journal sync among many messages."""
import argparse

from common import INGEST, Scratch, machine, ratio, run


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--window", type=int, default=64, help="requests in flight per pipelining client")
    a = ap.parse_args()
    print("machine: " + machine())
    raw = float(run([INGEST, "raw", str(a.count * 5), str(a.size)]).split()[1])
    print("raw PUB->SUB: %.0f msg/s" % raw)
    for window, name in ((1, "publisher_ingest_req"), (a.window, "publisher_ingest_pipelined")):
        with Scratch(start_hem=False, pub_extra=["--journal-retention", str(a.count * 2)]) as s:
            out = run([INGEST, "bus", s.pub.cmd_endpoint, s.pub.pub_endpoint, str(a.clients), str(a.count),
                       str(a.size), str(window)], timeout=600).split()
        bus, failed = float(out[1]), int(out[3])
        if failed:
            raise SystemExit("ingest: %d EMITs were refused" % failed)
        print("hm-publisher EMIT->ACK->published from %d clients, %d request(s) in flight each: %.0f msg/s"
              % (a.clients, window, bus))
        ratio(name, bus, raw, goal=0.5)


if __name__ == "__main__":
    main()
