"""test_load.py -- proves that a burst of events loses nothing and keeps hem's memory bounded (the
queue lives in hem.db, not in RAM), and that the ZeroMQ high-water mark never silently loses an
event: a subscriber that falls behind sees the gap in SEQ and replays it.

HB_LOAD_SCALE (default 1) scales the event counts; the ASan build runs a fraction of them."""
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from harness import DaemonTest, api_xml, b64  # noqa: E402

SCALE = float(os.environ.get("HB_LOAD_SCALE", "1"))
WAIT = 300.0
MIB = 1 << 20


def rss(pid):
    """The resident set size of pid in bytes (VmRSS of /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def poll(cond, what):
    """Polls cond() twice a second (the queries are not free: a faster poll would compete with hem
    for the CPU) until it is true; fails after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.5)


class LoadTest(DaemonTest):
    def setUp(self):
        """Everything (journal, hem.db) lives on tmpfs when there is one: this test is about memory and
        completeness, and each of the 40,000 executions makes hem commit (fsync) twice, which on a
        shared virtual disk would measure the disk, not hookbus."""
        super().setUp()
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = tempfile.mkdtemp(prefix="hookbus-load-", dir="/dev/shm")
        self.pub = None

    def burst(self, n, extra_xml=""):
        """Emits n API events as fast as the publisher takes them (a pipeline of DEALER requests, so
        that they share group commits); returns the acknowledged sequence numbers."""
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 0)
        s.setsockopt(zmq.RCVHWM, 0)
        s.connect(self.pub.cmd_endpoint)
        try:
            msg = b64(api_xml("one.vm.allocate", params=("****", extra_xml))).encode()
            acked, sent, window = [], 0, 512
            while len(acked) < n:
                while sent < n and sent - len(acked) < window:
                    s.send_multipart([b"", b"EMIT", msg])
                    sent += 1
                if not s.poll(30000):
                    raise AssertionError("the publisher stopped answering after %d acks" % len(acked))
                frames = s.recv_multipart()
                self.assertTrue(frames[-1].startswith(b"ACK "), frames)
                acked.append(int(frames[-1].split()[1]))
            return sorted(acked)
        finally:
            s.close()

    def wait_all(self, h, hooks, seqs, during=None):
        """Waits until every hook has a SUCCESS record for every seq (calling during() on each poll);
        checks that there is exactly one record per (hook, seq)."""
        want = len(hooks) * len(seqs)

        def done():
            if during is not None:
                during()
            if not h.alive():
                raise AssertionError("hem died:\n" + h.log_text()[-3000:])
            return h.db("SELECT count(*) FROM hook_log WHERE state = 'SUCCESS'")[0][0] >= want
        poll(done, "%d successful executions" % want)
        rows = h.db("SELECT hook_id, seq, count(*), min(state), max(state) FROM hook_log GROUP BY hook_id, seq")
        self.assertEqual(len(rows), want, "records per (hook, event)")
        self.assertEqual({(c, lo, hi) for _, _, c, lo, hi in rows}, {(1, "SUCCESS", "SUCCESS")})
        for hid in hooks:
            self.assertEqual(sorted(s for hk, s, _, _, _ in rows if hk == hid), seqs, "hook %d" % hid)

    def test_burst_into_four_hooks_is_complete_and_memory_bounded(self):
        """10,000 events (times HB_LOAD_SCALE) into 4 hooks running /bin/true at concurrency 8: every
        (hook, event) has exactly one SUCCESS record, and hem's RSS, sampled throughout, stays under
        its start + 64 MiB although the queue holds thousands of executions at its peak."""
        n = max(200, int(10000 * SCALE))
        self.pub = self.publisher(extra=["--journal-retention", str(n + 100)])
        # In the sanitizer build, ASan's quarantine keeps up to 256 MiB of freed memory resident by
        # default; a small one keeps the bound about hem's own memory (ignored by the plain build).
        asan = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=4"]))
        h = self.hem(self.pub, ["--concurrency", "8", "--log-retention", str(n + 100)],
                     env=dict(os.environ, ASAN_OPTIONS=asan))
        hooks = [h.allocate("NAME = load%d\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = /bin/true\n" % i)
                 for i in range(4)]
        start = rss(h.proc.pid)
        peak = [start]
        most_pending = [0]

        def sample():
            peak[0] = max(peak[0], rss(h.proc.pid))

        seqs = self.burst(n)
        sample()

        def during():
            sample()
            most_pending[0] = max(most_pending[0],
                                  h.db("SELECT count(*) FROM hook_log WHERE state = 'PENDING'")[0][0])
        self.wait_all(h, hooks, seqs, during)
        sys.stderr.write("[load: %d events, hem RSS %.1f MiB at start, %.1f MiB at peak, %d queued at most]\n"
                         % (n, start / MIB, peak[0] / MIB, most_pending[0]))
        self.assertGreater(most_pending[0], 100, "the burst never built a queue")
        self.assertLess(peak[0], start + 64 * MIB, "hem's memory grew with the queue")

    def test_stalled_subscriber_behind_a_tiny_hwm_replays_every_gap(self):
        """hm-publisher with HWM 10; hem is stopped (SIGSTOP) while a burst of large events overflows
        the socket buffers and the PUB queue, so the bus drops most of them; once continued, hem sees
        the gap in SEQ, replays, and the hook runs for every event exactly once."""
        n = max(300, int(1000 * SCALE))
        self.pub = self.publisher(extra=["--hwm", "10", "--journal-retention", str(n + 100)])
        h = self.hem(self.pub, ["--concurrency", "8", "--log-retention", str(n + 100)])
        hook = h.allocate("NAME = gap\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = /bin/true\n")
        first = self.burst(1)
        self.wait_all(h, [hook], first)
        h.proc.send_signal(signal.SIGSTOP)
        try:
            seqs = self.burst(n, "y" * 20000)   # n x 27 KB of base64: far more than the buffers hold
        finally:
            h.proc.send_signal(signal.SIGCONT)
        self.wait_all(h, [hook], first + seqs)
        self.assertIn("gap before seq", h.log_text(), "hem never saw a gap: the HWM dropped nothing")
        self.assertNotIn("pruned", h.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
