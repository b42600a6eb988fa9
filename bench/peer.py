#!/usr/bin/python3
"""peer.py -- benchmark 5: hookbus's dispatch rate (dispatch.py) against the `webhook` daemon
(Debian package webhook: an HTTP request runs a command) running the same /bin/true at the same
concurrency (8 HTTP clients, each waiting for its command to finish). Reported as
hookbus/webhook. Goal: >= 1.3."""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from common import in_turns, machine, median, ratio, wait_for
from dispatch import hookbus_rate
from harness import free_port


def webhook_rate(requests, concurrency):
    exe = shutil.which("webhook")
    if exe is None:
        raise SystemExit("peer: the webhook program is not installed (apt-get install webhook)")
    d = tempfile.mkdtemp(prefix="hookbus-bench-webhook-")
    port = free_port()
    with open(os.path.join(d, "hooks.json"), "w") as f:
        json.dump([{"id": "bench", "execute-command": "/bin/true",
                    "include-command-output-in-response": True}], f)
    proc = subprocess.Popen([exe, "-hooks", os.path.join(d, "hooks.json"), "-ip", "127.0.0.1",
                             "-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def up():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("POST", "/hooks/bench")
                return c.getresponse().status == 200
            except OSError:
                return False
        wait_for(up, timeout=20, what="webhook to answer")
        per = requests // concurrency
        errors = []

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(per):
                c.request("POST", "/hooks/bench")
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        if errors:
            raise SystemExit("peer: webhook answered %d errors" % len(errors))
        return per * concurrency / elapsed
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3,
                    help="webhook and hookbus measured this many times, alternating; the medians are reported")
    a = ap.parse_args()
    print("machine: " + machine())
    runs = []
    for i in range(a.repeat):
        peer, ours = in_turns(i, lambda: webhook_rate(a.events, a.concurrency),
                              lambda: hookbus_rate(a.events, a.concurrency))
        runs.append((peer, ours))
        print("run %d: webhook %.0f commands/s; hookbus %.0f hooks/s (concurrency %d); ratio %.3f"
              % (i + 1, peer, ours, a.concurrency, ours / peer), flush=True)
    peer = median([r[0] for r in runs])
    ratio("peer_hookbus_over_webhook", median([r[1] / r[0] for r in runs]) * peer, peer, goal=1.3)


if __name__ == "__main__":
    main()
