"""test_bench.py -- keeps the benchmarks of bench/ working: each runs with small counts against the
built programs (its own daemons in a scratch directory, as an operator runs it) and must exit 0
and print every RESULT line it is known for, each with the ratio it reports. Timings are never
judged here: a ratio only has to be a number (bench/README.md, docs/PERFORMANCE.md)."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, SOURCE  # noqa: E402

PYTHON = "/usr/bin/python3"
BENCH = os.path.join(SOURCE, "bench")
RATIO = re.compile(r"ratio (?:p50 )?(\d+\.\d+)")


class BenchTest(unittest.TestCase):
    def run_bench(self, argv, results, without_ratio=(), timeout=300):
        """Runs bench/argv[0] with the rest of argv; checks its exit status and that it printed a RESULT
        line for each name in results, with a ratio unless the name is in without_ratio."""
        env = dict(os.environ, HB_BUILD_DIR=BUILD, PYTHONDONTWRITEBYTECODE="1")
        r = subprocess.run([PYTHON, os.path.join(BENCH, argv[0])] + argv[1:], capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=SOURCE)
        self.assertEqual(r.returncode, 0, "%s failed:\n%s\n%s" % (" ".join(argv), r.stdout, r.stderr))
        self.assertIn("machine: ", r.stdout, "%s does not say which machine it ran on" % argv[0])
        lines = {}
        for line in r.stdout.splitlines():
            if line.startswith("RESULT "):
                lines[line.split()[1]] = line
        for name in results:
            self.assertIn(name, lines, "%s printed no RESULT %s:\n%s" % (argv[0], name, r.stdout))
            if name not in without_ratio:
                m = RATIO.search(lines[name])
                self.assertIsNotNone(m, "RESULT %s has no ratio: %s" % (name, lines[name]))
                self.assertGreater(float(m.group(1)), 0, lines[name])
        return r.stdout

    def test_dispatch(self):
        self.run_bench(["dispatch.py", "--events", "300", "--repeat", "1"],
                       ["dispatch_throughput", "dispatch_cpu_per_execution"])

    def test_latency(self):
        self.run_bench(["latency.py", "--seconds", "0.5", "--rates", "100,1000"],
                       ["latency_at_100_per_s", "latency_at_1000_per_s"])

    def test_ingest(self):
        self.run_bench(["ingest.py", "--count", "1000"], ["publisher_ingest_req", "publisher_ingest_pipelined"])

    def test_tiny_hook(self):
        self.run_bench(["tiny.py", "--count", "20"], ["emit", "emit_zmq", "oci_hook", "oci_hook_zmq"])

    def test_peer(self):
        if shutil.which("webhook") is None:
            self.skipTest("webhook (the peer) is not installed")
        self.run_bench(["peer.py", "--events", "300", "--repeat", "1"], ["peer_hookbus_over_webhook"])

    def test_scale(self):
        out = self.run_bench(["scale.py", "--hooks", "50", "--records", "500,1000", "--events", "100",
                              "--storm", "300", "--executions", "50"],
                             ["scale_startup", "scale_hookctl", "scale_event_cpu", "retention_cost_at_500",
                              "retention_cost_at_1000", "storm_rss"], without_ratio=["scale_hookctl"])
        self.assertIn("50 hooks + 1000 records", out)

    def test_overload(self):
        self.run_bench(["overload.py", "--seconds", "4", "--warmup", "1"],
                       ["overload_completion", "overload_latency", "overload_rss"])

    def test_blocking_hook_in_runc(self):
        if os.geteuid() != 0 or shutil.which("runc") is None or not os.path.exists("/bin/busybox"):
            self.skipTest("needs root, runc and busybox-static (scripts/setup installs them)")
        self.run_bench(["blocking.py", "--count", "3"],
                       ["runc_run_event", "runc_run_event_local", "runc_run_blocking", "runc_run_blocking_local",
                        "wait_over_event", "wait_over_event_local"])

    def test_backlog(self):
        self.run_bench(["backlog.py", "--backlogs", "50", "--events", "100"],
                       ["backlog_50_concurrency_1", "dispatch_behind_50_delayed_retries"])

    def test_payload(self):
        self.run_bench(["payload.py", "--sizes", "1024", "--events", "100"],
                       ["dispatch_parameter_1024_bytes", "dispatch_relative_command"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
