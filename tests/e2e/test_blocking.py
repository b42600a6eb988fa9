"""test_blocking.py -- proves blocking hooks end to end: hem's VERDICT request (allow, refuse with the
failing hook's id, execution id and stderr, timeout, a VERDICT that races ahead of its event, no
blocking hook, RETRIES, FILTER, CONCURRENCY_POLICY = skip, records pruned at once), reserved slots
that a backlog of ordinary hooks cannot take, blocking records dispatched first, `hm-publisher emit --wait`, `oci-hook --wait` under a
real runc (a hook refusing uid 0 aborts the container with its reason, a uid 1000 container runs; hem
down with and without --fail-closed) and `install-oci-hook --bundle` (idempotent, atomic).

Every test starts its own hm-publisher and hem in a temporary directory; hooks are real executables.
The runc tests need root, runc and busybox-static (scripts/setup installs both)."""
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, HM_PUBLISHER, DaemonTest, RuncCase, free_port, wait_for  # noqa: E402
from test_fastpath import packet  # noqa: E402
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

    def test_blocking_records_go_first(self):
        """With BLOCKING_CONCURRENCY = 0 (no reserved slot) and CONCURRENCY = 1, a blocking execution queued
        behind ordinary ones starts as soon as the running one ends, before every ordinary record queued
        earlier."""
        self.start_hem(["--concurrency", "1", "--blocking-concurrency", "0"])
        oid = self.api_hook("slow", "one.vm.hold", "waiter.sh")
        hid = self.decider()
        for _ in range(5):
            self.emit_api("one.vm.hold", 1)
        self.until(lambda: [r["state"] for r in self.records(oid)].count("RUNNING") == 1, "one ordinary run")
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "fine"))
        self.wait_seq(seq)
        open(self.release, "w").close()
        self.assertEqual(self.verdict(seq)[0], "allow")
        self.wait_idle()
        blocking = self.records(hid)[0]
        ordinary = self.records(oid)
        self.assertLess(ordinary[0]["start_ms"], blocking["start_ms"])
        self.assertTrue(all(blocking["end_ms"] <= r["start_ms"] for r in ordinary[1:]),
                        (blocking, [r["start_ms"] for r in ordinary]))


class EmitWaitTest(BlockingCase):
    def emit(self, *args, env_endpoint=True):
        env = dict(os.environ)
        env.pop("HOOKBUS_ENDPOINT", None)
        if env_endpoint:
            env["HOOKBUS_ENDPOINT"] = self.h.control_endpoint
        return subprocess.run([HM_PUBLISHER, "emit", "api", "one.vm.allocate", "--result", "1",
                               "--endpoint", self.pub.cmd_endpoint] + list(args), capture_output=True, text=True,
                              env=env, timeout=60)

    def test_emit_wait(self):
        """emit --wait exits 0 when the blocking hook allows and 4 when it refuses, printing the hook's id, name,
        execution id and stderr; hem is found by --hem-endpoint or $HOOKBUS_ENDPOINT. With hem unreachable
        (or no verdict in time) it warns and exits 0, or with --fail-closed exits 5 saying so."""
        self.start_hem()
        hid = self.decider()
        r = self.emit("--param", "****", "--param", "fine", "--wait", "--timeout", "20000")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        seq = int(r.stdout)
        self.assertEqual(self.records(hid)[0]["seq"], seq)
        r = self.emit("--param", "****", "--param", "deny", "--wait", "--timeout", "20000", "-q",
                      "--hem-endpoint", self.h.control_endpoint, env_endpoint=False)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr, r"^hm-publisher emit: seq \d+ refused by hook %d \(policy\) execution 1: "
                         r"denied by policy: the request says deny\n$" % hid)
        open(self.hold, "w").close()
        r = self.emit("--param", "****", "--param", "deny", "--wait", "--timeout", "500", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no verdict from hem within", r.stderr)
        self.assertIn("fail-open: counted as allowed", r.stderr)
        r = self.emit("--param", "****", "--param", "deny", "--wait", "--timeout", "500", "-q", "--fail-closed")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("--fail-closed: counted as refused", r.stderr)
        os.unlink(self.hold)
        down = "ipc://%s/nowhere.sock" % self.dir
        r = self.emit("--wait", "-q", "--hem-endpoint", down)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("cannot reach hem at %s" % down, r.stderr)
        r = self.emit("--wait", "-q", "--hem-endpoint", down, "--fail-closed")
        self.assertEqual(r.returncode, 5, r.stderr)
        r = self.emit("--fail-closed")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("go with --wait", r.stderr)


class LocalWaitTest(BlockingCase):
    """--wait over hem's local socket (LOCAL_ENDPOINT), from the launcher alone."""

    pub_extra = ("--local-endpoint", "unix://{dir}/run/publisher.local")

    def setUp(self):
        super().setUp()
        self.pub_local = "unix://%s/run/publisher.local" % self.dir
        self.hem_local = "unix://%s/run/hem.local" % self.dir
        # The launcher alone in a directory of its own: it cannot find hm-publisher-core, so anything
        # it hands to the core fails with status 2 ("cannot run hm-publisher-core").
        self.launcher = os.path.join(self.dir, "alone", "hm-publisher")
        os.makedirs(os.path.dirname(self.launcher))
        shutil.copy(HM_PUBLISHER, self.launcher)

    def wait_emit(self, *args, prog=None, endpoint=None):
        env = dict(os.environ)
        env.pop("HOOKBUS_ENDPOINT", None)
        return subprocess.run([prog or self.launcher, "emit", "api", "one.vm.allocate", "--result", "1", "-q",
                               "--endpoint", endpoint or self.pub_local, "--wait"] + list(args),
                              capture_output=True, text=True, env=env, timeout=60)

    def raw(self, data):
        """Sends data to hem's local socket as one packet and returns its answer."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.settimeout(20)
            s.connect(self.hem_local[len("unix://"):])
            s.send(data)
            return s.recv(65536).decode()
        finally:
            s.close()

    def test_allow_refuse_timeout_down(self):
        """Over both local sockets, the launcher alone (no hm-publisher-core) gets the verdict: 0 on allow, 4
        with the hook's id, name, execution id and stderr on refuse, fail-open 0 or --fail-closed 5 when
        no verdict comes in time or hem's socket is not there; the core takes unix:// for hem too."""
        self.start_hem(["--local-endpoint", self.hem_local])
        hid = self.decider()
        r = self.wait_emit("--param", "****", "--param", "fine", "--hem-endpoint", self.hem_local, "--timeout", "20000")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(self.records(hid)[0]["verdict"], "allow")
        r = self.wait_emit("--param", "****", "--param", "deny", "--hem-endpoint", self.hem_local, "--timeout", "20000")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertRegex(r.stderr, r"^hm-publisher emit: seq \d+ refused by hook %d \(policy\) execution 1: "
                         r"denied by policy: the request says deny\n$" % hid)
        open(self.hold, "w").close()
        r = self.wait_emit("--param", "****", "--param", "deny", "--hem-endpoint", self.hem_local, "--timeout", "500")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no verdict from hem within", r.stderr)
        self.assertIn("fail-open: counted as allowed", r.stderr)
        r = self.wait_emit("--param", "****", "--param", "deny", "--hem-endpoint", self.hem_local, "--timeout", "500",
                      "--fail-closed")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("--fail-closed: counted as refused", r.stderr)
        os.unlink(self.hold)
        down = "unix://%s/run/nowhere.local" % self.dir
        r = self.wait_emit("--hem-endpoint", down, "--fail-closed")
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("no verdict from hem: cannot reach %s" % down, r.stderr)
        # hm-publisher-core: the event over ZeroMQ, the verdict over hem's local socket.
        r = self.wait_emit("--param", "****", "--param", "deny", "--hem-endpoint", self.hem_local, "--timeout", "20000",
                      prog=HM_PUBLISHER, endpoint=self.pub.cmd_endpoint)
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertRegex(r.stderr, r"refused by hook %d \(policy\) execution \d+: denied" % hid)

    def test_bad_requests(self):
        """hem's local socket answers VERDICT only; anything else, malformed numbers or bytes that are no
        request get ERROR with the reason, and hem goes on answering."""
        self.start_hem(["--local-endpoint", self.hem_local])
        self.assertRegex(self.raw(packet("POOL", [])), r"^ERROR hem's local socket answers VERDICT")
        self.assertRegex(self.raw(packet("VERDICT", ["1"])), r"^ERROR hem's local socket answers VERDICT")
        self.assertRegex(self.raw(packet("VERDICT", ["x", "10"])), r"^ERROR .*seq")
        self.assertRegex(self.raw(packet("VERDICT", ["1", "99999999999"])), r"^ERROR ")
        self.assertRegex(self.raw(b"GET / HTTP/1.0\r\n\r\n"), r"^ERROR ")
        seq = self.emit_api("one.vm.allocate", 1, params=("****", "fine"))
        self.assertRegex(self.raw(packet("VERDICT", [str(seq), "10000"])), r"^OK allow\n")
        self.assertEqual(self.h.call("POOL").count("<HOOK>"), 0)

    def test_hem_stops_while_waiting(self):
        """A local VERDICT still waiting when hem stops (for an event that never comes) is answered that hem
        stopped, not left to time out."""
        self.start_hem(["--local-endpoint", self.hem_local])
        answer = []
        t = threading.Thread(target=lambda: answer.append(self.raw(packet("VERDICT", ["1000", "60000"]))))
        t.start()
        wait_for(lambda: "VERDICT 1000: waiting" in self.h.log_text(), what="the VERDICT to wait")
        self.h.stop()
        t.join(30)
        self.assertEqual(answer, ["ERROR hem stopped before the verdict"])


# A CONTAINER policy: refuses a container whose process runs as uid 0.
NO_ROOT = r'''#!/usr/bin/python3
import base64, sys, xml.etree.ElementTree as ET
doc = ET.fromstring(base64.b64decode(sys.argv[1]))
if doc.findtext("PROCESS/USER/UID") == "0":
    sys.stderr.write("container %s may not run as uid 0\n" % doc.findtext("ID"))
    sys.exit(1)
'''


@unittest.skipUnless(os.geteuid() == 0, "runc tests need root (they run real containers)")
class RuncBlockingTest(RuncCase):
    """Real containers whose createRuntime hook waits for hem's verdict."""

    def setUp(self):
        super().setUp()
        os.chmod(self.out, 0o777)
        self.pub_local = "unix://%s/run/publisher.local" % self.dir
        self.pub = self.publisher(["--local-endpoint", self.pub_local])

    def policy_hem(self, extra=()):
        hem = self.hem(self.pub, extra)
        path = os.path.join(hem.hook_base_path, "no-root.py")
        with open(path, "w") as f:
            f.write(NO_ROOT)
        os.chmod(path, 0o755)
        hid = hem.allocate("NAME = no-root\nTYPE = state\nRESOURCE = CONTAINER\nON = CUSTOM\nSTATE = CREATE_RUNTIME\n"
                           "COMMAND = no-root.py\nARGUMENTS = \"$TEMPLATE\"\nBLOCKING = yes\n")
        return hem, hid

    def install(self, *args):
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook", "--bundle", self.bundle] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def refused_as_root_runs_as_1000(self, hem, hid):
        """Runs the bundle as configured (uid 0): refused with the policy's reason and the command never
        ran; then as uid 1000: it runs, quietly. hem recorded refuse, then allow."""
        cid, r = self.run_container()
        self.assertNotEqual(r.returncode, 0, "runc ran a uid 0 container its policy refused")
        self.assertIn("refused by hook %d (no-root) execution 0: container %s may not run as uid 0" % (hid, cid),
                      r.stderr)
        self.assertFalse(self.ran(), "the refused container's command ran")
        with open(os.path.join(self.bundle, "config.json")) as f:
            c = json.load(f)
        c["process"]["user"] = {"uid": 1000, "gid": 1000}
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(c, f)
        cid, r = self.run_container()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)
        self.assertTrue(self.ran(), "the uid 1000 container did not run")
        verdicts = hem.db("SELECT verdict FROM hook_log WHERE hook_id = ? ORDER BY exec_id", (hid,))
        self.assertEqual(verdicts, [("refuse",), ("allow",)])

    def test_blocking_hook_refuses_root(self):
        """A blocking CONTAINER/CREATE_RUNTIME hook that refuses uid 0, with oci-hook --wait installed into the
        bundle by install-oci-hook --bundle: `runc run` as uid 0 fails with the hook's reason in runc's
        stderr and the container's command never runs; as uid 1000 the container runs."""
        hem, hid = self.policy_hem()
        self.configure({}, user={"uid": 0, "gid": 0})
        self.install("--stage", "createRuntime", "--wait", "--endpoint", self.pub.cmd_endpoint,
                     "--hem-endpoint", hem.control_endpoint, "--timeout", "30")
        self.refused_as_root_runs_as_1000(hem, hid)

    def test_local_sockets(self):
        """oci-hook --wait with the publisher's and hem's local sockets (the launcher alone, no ZeroMQ): a
        uid 0 container is refused with the hook's reason, a uid 1000 one runs."""
        hem_local = "unix://%s/run/hem.local" % self.dir
        hem, hid = self.policy_hem(["--local-endpoint", hem_local])
        hook = self.oci_hook("createRuntime", "--endpoint", self.pub_local, "--wait", "--hem-endpoint", hem_local,
                             "--timeout", "30000")
        self.configure({"createRuntime": [hook]}, user={"uid": 0, "gid": 0})
        self.refused_as_root_runs_as_1000(hem, hid)

    def test_hem_down(self):
        """With hem unreachable, oci-hook --wait lets the container run with a warning (fail-open), and with
        --fail-closed refuses it, saying why."""
        down = "ipc://%s/nowhere.sock" % self.dir
        ep = self.pub.cmd_endpoint
        self.configure({"createRuntime": [self.oci_hook("createRuntime", "--endpoint", ep, "--wait",
                                                        "--hem-endpoint", down)]}, user={"uid": 0, "gid": 0})
        cid, r = self.run_container()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.ran())
        os.unlink(os.path.join(self.out, "ran"))
        self.configure({"createRuntime": [self.oci_hook("createRuntime", "--endpoint", ep, "--wait",
                                                        "--hem-endpoint", down, "--fail-closed")]},
                       user={"uid": 0, "gid": 0})
        cid, r = self.run_container()
        self.assertNotEqual(r.returncode, 0, "runc ran the container although hem gave no verdict")
        self.assertIn("cannot reach hem at %s" % down, r.stderr)
        self.assertIn("--fail-closed: the container is refused", r.stderr)
        self.assertFalse(self.ran())


class InstallBundleTest(DaemonTest):
    CONFIG = {"ociVersion": "1.0.2", "process": {"args": ["/bin/sh"], "user": {"uid": 0, "gid": 0}},
              "root": {"path": "rootfs"}, "annotations": {"a": "\u00e9\u2603"},
              "hooks": {"prestart": [{"path": "/usr/bin/other", "args": ["other", "x"]}],
                        "createRuntime": [{"path": "/usr/bin/first"},
                                          {"path": "/opt/old/hm-publisher", "args": ["hm-publisher", "oci-hook",
                                                                                     "createRuntime"]},
                                          {"path": "/usr/bin/last"}]}}

    def setUp(self):
        super().setUp()
        self.bdir = os.path.join(self.dir, "b")
        os.makedirs(self.bdir)
        self.config = os.path.join(self.bdir, "config.json")
        with open(self.config, "w") as f:
            json.dump(self.CONFIG, f)
        os.chmod(self.config, 0o640)

    def install(self, *args, code=0):
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook", "--bundle", self.bdir] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, code, r.stderr)
        return r

    def read(self):
        with open(self.config) as f:
            return json.load(f)

    def test_idempotent_and_atomic(self):
        """install-oci-hook --bundle replaces our earlier entry in place and keeps everything else; run twice it
        leaves the same document with one entry per stage; the file is replaced by a rename (new inode, same
        mode, no temporary file left); another stage list moves our entries; --uninstall removes them; a
        config.json it cannot edit is left as it was."""
        ino = os.stat(self.config).st_ino
        self.install("--stage", "createRuntime", "--stage", "poststop", "--wait", "--hem-endpoint", "ipc:///x",
                     "--timeout", "5")
        st = os.stat(self.config)
        self.assertNotEqual(st.st_ino, ino)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(sorted(os.listdir(self.bdir)), ["config.json"])
        c = self.read()
        exe = os.path.realpath(HM_PUBLISHER)
        cr = c["hooks"]["createRuntime"]
        self.assertEqual([h["path"] for h in cr], ["/usr/bin/first", exe, "/usr/bin/last"])
        self.assertEqual(cr[1]["args"], ["hm-publisher", "oci-hook", "createRuntime", "--timeout", "4500", "--wait",
                                         "--hem-endpoint", "ipc:///x"])
        self.assertEqual(cr[1]["timeout"], 5)
        self.assertEqual(c["hooks"]["poststop"], [{"path": exe, "args": ["hm-publisher", "oci-hook", "poststop"],
                                                   "timeout": 5}])
        expect = dict(self.CONFIG)
        expect["hooks"] = dict(c["hooks"], prestart=self.CONFIG["hooks"]["prestart"])
        self.assertEqual(c, expect)
        with open(self.config, "rb") as f:
            first = f.read()
        self.install("--stage", "createRuntime", "--stage", "poststop", "--wait", "--hem-endpoint", "ipc:///x",
                     "--timeout", "5")
        with open(self.config, "rb") as f:
            self.assertEqual(f.read(), first)
        self.install("--stage", "poststart")
        c = self.read()
        self.assertEqual([h["path"] for h in c["hooks"]["createRuntime"]], ["/usr/bin/first", "/usr/bin/last"])
        self.assertNotIn("poststop", c["hooks"])
        self.assertEqual(c["hooks"]["poststart"], [{"path": exe, "args": ["hm-publisher", "oci-hook", "poststart"]}])
        self.install("--uninstall")
        c = self.read()
        self.assertEqual(sorted(c["hooks"]), ["createRuntime", "prestart"])
        with open(self.config, "w") as f:
            f.write('{"hooks": {"createRuntime": {}}}')
        r = self.install("--stage", "createRuntime", code=1)
        self.assertIn("hooks.createRuntime is not an array", r.stderr)
        with open(self.config) as f:
            self.assertEqual(f.read(), '{"hooks": {"createRuntime": {}}}')
        self.assertEqual(sorted(os.listdir(self.bdir)), ["config.json"])
        r = self.install("--annotation", "a=b", code=2)
        self.assertIn("a bundle's hooks take no condition", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
