"""test_publisher.py -- proves hm-publisher publishes byte-exact keys and two-frame messages,
refuses every kind of bad EMIT without publishing it, replays from its journal, and keeps its
sequence across restarts."""
import base64
import os
import re
import signal
import sqlite3
import sys
import threading
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
import unittest  # noqa: E402

from harness import (HM_PUBLISHER, DaemonTest, api_xml, b64, request,  # noqa: E402
                     settle_subscription, vm_xml, wait_for, free_port)


def usable_cpus(pid):
    """The CPUs process pid may use: its affinity, or fewer when the cpu.max of its cgroup v2 or of
    an ancestor allows fewer (rounded up), as hm-publisher counts them for its helper threads."""
    cpus = len(os.sched_getaffinity(pid))
    with open("/proc/%d/cgroup" % pid) as f:
        rel = next((line[3:].strip() for line in f if line.startswith("0::/")), None)
    if rel is None or "/.." in rel:
        return cpus
    parts = [p for p in rel.split("/") if p]
    for depth in range(len(parts), -1, -1):
        try:
            with open(os.path.join("/sys/fs/cgroup", *parts[:depth], "cpu.max")) as f:
                quota, period = f.read().split()[:2]
            if quota != "max" and int(period) > 0:
                cpus = min(cpus, -(-int(quota) // int(period)))
        except (OSError, ValueError):
            pass
    return cpus


def decode(frame):
    return ET.fromstring(base64.b64decode(frame, validate=True))


class PublishTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.pub = self.publisher()
        self.sub = self.subscriber(self.pub)
        settle_subscription(self.pub, self.sub)

    def emit(self, *args):
        r = self.run_cmd([HM_PUBLISHER, "emit"] + list(args) + ["--endpoint", self.pub.cmd_endpoint])
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout.strip())

    def recv_all(self, n):
        msgs = []
        for _ in range(n):
            m = self.sub.recv()
            self.assertIsNotNone(m, "expected %d messages, got %d" % (n, len(msgs)))
            self.assertEqual(len(m), 2, "every message is exactly two frames")
            msgs.append(m)
        self.assertIsNone(self.sub.recv(timeout_ms=200), "no further message")
        return msgs

    def test_api_event(self):
        seq = self.emit("api", "one.vm.allocate", "--result", "1", "--param", "****", "--param", "<TEMPLATE/>",
                        "--out", "true", "--out", "42", "--extra", "<VM><ID>42</ID></VM>")
        (key, content), = self.recv_all(1)
        self.assertEqual(key, b"EVENT API one.vm.allocate 1")
        doc = decode(content)
        self.assertEqual(doc.tag, "HOOK_MESSAGE")
        self.assertEqual([c.tag for c in doc][:3], ["HOOK_TYPE", "SEQ", "CALL"])
        self.assertEqual(doc.findtext("SEQ"), str(seq))
        self.assertEqual(doc.findtext("CALL"), "one.vm.allocate")
        self.assertEqual(doc.findtext("CALL_INFO/RESULT"), "1")
        params = doc.findall("CALL_INFO/PARAMETERS/PARAMETER")
        self.assertEqual([(p.findtext("POSITION"), p.findtext("TYPE"), p.findtext("VALUE")) for p in params],
                         [("1", "IN", "****"), ("2", "IN", "<TEMPLATE/>"), ("1", "OUT", "true"), ("2", "OUT", "42")])
        self.assertEqual(doc.findtext("CALL_INFO/EXTRA/VM/ID"), "42")
        self.assertNotIn(b"\n", content)

    def test_api_failure_result(self):
        self.emit("api", "one.vm.deploy", "--result", "0")
        (key, _), = self.recv_all(1)
        self.assertEqual(key, b"EVENT API one.vm.deploy 0")

    def test_vm_state_event(self):
        seq = self.emit("state", "VM", "0", "PENDING", "LCM_INIT")
        msgs = self.recv_all(2)
        self.assertEqual([m[0] for m in msgs], [b"EVENT VM 0/PENDING/LCM_INIT ", b"EVENT STATE VM/PENDING/LCM_INIT/0 "])
        self.assertEqual(msgs[0][1], msgs[1][1], "both keys carry the same content")
        doc = decode(msgs[0][1])
        self.assertEqual([c.tag for c in doc],
                         ["HOOK_TYPE", "SEQ", "HOOK_OBJECT", "STATE", "LCM_STATE", "RESOURCE_ID", "REMOTE_HOST", "VM"])
        self.assertEqual(doc.findtext("SEQ"), str(seq))
        self.assertEqual(doc.findtext("VM/ID"), "0")

    def test_service_key(self):
        self.emit("state", "VM", "12", "ACTIVE", "RUNNING", "--service-id", "7", "--remote-host", "node1")
        msgs = self.recv_all(3)
        self.assertEqual([m[0] for m in msgs], [b"EVENT VM 12/ACTIVE/RUNNING ", b"EVENT STATE VM/ACTIVE/RUNNING/12 ",
                                                b"EVENT SERVICE 7 "])
        doc = decode(msgs[2][1])
        self.assertEqual(doc.findtext("SERVICE_ID"), "7")
        self.assertEqual(doc.findtext("REMOTE_HOST"), "node1")

    def test_host_image_net_events(self):
        obj = os.path.join(self.dir, "image.xml")
        with open(obj, "w") as f:
            f.write("<IMAGE><ID>3</ID><NAME>debian &amp; friends</NAME></IMAGE>")
        self.emit("state", "HOST", "5", "ERROR", "--remote-host", "node5")
        self.emit("state", "IMAGE", "3", "READY", "--object", obj)
        self.emit("state", "NET", "9", "READY")
        msgs = self.recv_all(6)
        self.assertEqual([m[0] for m in msgs], [
            b"EVENT HOST 5/ERROR/ ", b"EVENT STATE HOST/ERROR//5 ",
            b"EVENT IMAGE 3/READY/ ", b"EVENT STATE IMAGE/READY//3 ",
            b"EVENT NET 9/READY/ ", b"EVENT STATE NET/READY//9 "])
        host = decode(msgs[0][1])
        self.assertEqual([c.tag for c in host], ["HOOK_TYPE", "SEQ", "HOOK_OBJECT", "STATE", "REMOTE_HOST", "RESOURCE_ID", "HOST"])
        self.assertEqual(host.findtext("REMOTE_HOST"), "node5")
        self.assertEqual(decode(msgs[2][1]).findtext("IMAGE/NAME"), "debian & friends")
        self.assertIsNotNone(decode(msgs[4][1]).find("VNET"))

    def test_object_from_stdin(self):
        r = self.run_cmd([HM_PUBLISHER, "emit", "state", "CONTAINER", "abc", "POSTSTOP", "--object", "-",
                          "--remote-host", "node1", "--endpoint", self.pub.cmd_endpoint],
                         stdin="<CONTAINER><ID>abc</ID></CONTAINER>")
        self.assertEqual(r.returncode, 0, r.stderr)
        msgs = self.recv_all(2)
        self.assertEqual(msgs[1][0], b"EVENT STATE CONTAINER/POSTSTOP//abc ")

    def test_prefix_subscription(self):
        hosts = self.subscriber(self.pub, ["EVENT STATE HOST/ERROR/"])
        wait_for(lambda: self.emit("state", "HOST", "1", "ERROR") and hosts.recv(timeout_ms=100), what="host sub")
        while hosts.recv(timeout_ms=100) is not None:
            pass
        self.emit("state", "VM", "0", "PENDING", "LCM_INIT")
        self.emit("state", "HOST", "7", "ERROR")
        self.emit("state", "HOST", "8", "MONITORED")
        m = hosts.recv()
        self.assertEqual(m[0], b"EVENT STATE HOST/ERROR//7 ")
        self.assertIsNone(hosts.recv(timeout_ms=300))

    def test_sequence_increases_under_concurrent_emitters(self):
        acks, errors = [], []

        def client(n):
            try:
                for i in range(n):
                    rep = request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml("one.vm.c%d" % i))])
                    acks.append(int(rep[0].split()[1]))
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=client, args=(100,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(set(acks)), 400)
        self.assertEqual(sorted(acks), list(range(min(acks), min(acks) + 400)))
        seqs = [int(decode(m[1]).findtext("SEQ")) for m in self.recv_all(400)]
        self.assertEqual(seqs, sorted(acks), "published in sequence order")


class BadInputTest(DaemonTest):
    def test_every_bad_emit_is_refused_and_nothing_published(self):
        pub = self.publisher(extra=["--max-message-size", "2048"])
        sub = self.subscriber(pub)
        settle_subscription(pub, sub)
        first = int(request(pub.cmd_endpoint, ["EMIT", b64(api_xml())])[0].split()[1])
        self.assertIsNotNone(sub.recv())
        bad = {
            "not base64": ["EMIT", "this is not base64!"],
            "empty content": ["EMIT", ""],
            "not XML": ["EMIT", b64("just text")],
            "truncated XML": ["EMIT", b64("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE>")],
            "DOCTYPE": ["EMIT", b64('<!DOCTYPE a [<!ENTITY x "y">]>' + api_xml())],
            "invalid against the XSD": ["EMIT", b64("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE></HOOK_MESSAGE>")],
            "bad RESULT": ["EMIT", b64(api_xml(result=2))],
            "unknown HOOK_TYPE": ["EMIT", b64("<HOOK_MESSAGE><HOOK_TYPE>NOPE</HOOK_TYPE></HOOK_MESSAGE>")],
            "object root mismatch": ["EMIT", b64(vm_xml().replace("<VM><ID>0</ID></VM>", "<HOST/>"))],
            "blank in a key field": ["EMIT", b64(vm_xml(state="PEN DING"))],
            "oversized": ["EMIT", b64(api_xml(params=("x" * 4000,)))],
            "missing content frame": ["EMIT"],
            "extra frames": ["EMIT", b64(api_xml()), "more"],
            "unknown verb": ["PUBLISH", b64(api_xml())],
            "bad REPLAY": ["REPLAY abc"],
        }
        for what, frames in bad.items():
            with self.subTest(what):
                rep = request(pub.cmd_endpoint, frames)
                self.assertEqual(len(rep), 1)
                self.assertTrue(rep[0].startswith(b"ERROR "), rep[0])
                self.assertGreater(len(rep[0]), len(b"ERROR ") + 5, "the reason is said")
        self.assertIsNone(sub.recv(timeout_ms=300), "nothing refused was published")
        self.assertIn(b"larger than the limit", request(pub.cmd_endpoint, bad["oversized"])[0])
        rep = request(pub.cmd_endpoint, ["EMIT", b64(api_xml())])
        self.assertEqual(rep, [b"ACK %d" % (first + 1)], "refused requests take no sequence number")
        self.assertEqual(sub.recv()[0], b"EVENT API one.vm.allocate 1")

    def test_dealer_client_without_delimiter(self):
        import zmq
        pub = self.publisher()
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(s.close)
        s.connect(pub.cmd_endpoint)
        s.send_multipart([b"EMIT", b64(api_xml()).encode()])
        self.assertTrue(s.poll(5000))
        self.assertTrue(s.recv_multipart()[0].startswith(b"ACK "))
        s.send_multipart([b"garbage"] * 20)
        self.assertTrue(s.poll(5000))
        self.assertTrue(s.recv_multipart()[0].startswith(b"ERROR "))

    def test_emit_cli_errors(self):
        pub = self.publisher()
        cases = [
            (["api"], 2, "CALL"),
            (["api", "one.vm.allocate"], 2, "--result"),
            (["api", "one.vm.allocate", "--result", "2"], 2, "--result"),
            (["api", "one.vm.allocate", "--result", "1", "--extra", "<unclosed>"], 2, "EXTRA"),
            (["state", "VM", "0", "PENDING"], 2, "LCM"),
            (["state", "HOST", "0", "ERROR", "LCM_INIT"], 2, "LCM"),
            (["state", "IMAGE", "0", "READY", "--remote-host", "x"], 2, "REMOTE_HOST"),
            (["state", "VM", "0", "PENDING", "LCM_INIT", "--object", os.path.join(self.dir, "missing.xml")], 2, "missing.xml"),
            (["state", "vm", "0", "PENDING", "LCM_INIT"], 2, "object"),
            (["frobnicate"], 2, "api"),
            (["api", "x.y", "--result", "1", "--bogus", "1"], 2, "--bogus"),
        ]
        for args, code, fragment in cases:
            with self.subTest(args=args):
                r = self.run_cmd([HM_PUBLISHER, "emit"] + args + ["--endpoint", pub.cmd_endpoint])
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertIn(fragment, r.stderr)
                self.assertEqual(r.stdout, "")
        obj = os.path.join(self.dir, "wrong.xml")
        with open(obj, "w") as f:
            f.write("<HOST><ID>0</ID></HOST>")
        r = self.run_cmd([HM_PUBLISHER, "emit", "state", "VM", "0", "PENDING", "LCM_INIT", "--object", obj,
                          "--endpoint", pub.cmd_endpoint])
        self.assertEqual(r.returncode, 2)
        self.assertIn("<VM>", r.stderr)

    def test_emit_to_a_daemon_that_is_down(self):
        port = free_port()
        r = self.run_cmd([HM_PUBLISHER, "emit", "api", "one.vm.allocate", "--result", "1",
                          "--endpoint", "tcp://127.0.0.1:%d" % port, "--timeout", "300"])
        self.assertEqual(r.returncode, 3)
        self.assertIn("no answer from tcp://127.0.0.1:%d" % port, r.stderr)

    def test_endpoint_from_environment_and_config(self):
        pub = self.publisher()
        env = dict(os.environ, HOOKBUS_PUBLISHER=pub.ipc_endpoint)
        r = subprocess_run([HM_PUBLISHER, "emit", "api", "one.vm.allocate", "--result", "1"], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        conf = os.path.join(self.dir, "hm.conf")
        with open(conf, "w") as f:
            f.write('COMMAND_ENDPOINT = "%s"\n' % pub.cmd_endpoint)
        env.pop("HOOKBUS_PUBLISHER")
        r = subprocess_run([HM_PUBLISHER, "emit", "api", "one.vm.allocate", "--result", "1", "-c", conf], env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout), 2)


def subprocess_run(argv, env):
    import subprocess
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)


class ReplayTest(DaemonTest):
    def emit_raw(self, pub, n, call="one.vm.r"):
        return [int(request(pub.cmd_endpoint, ["EMIT", b64(api_xml("%s%d" % (call, i)))])[0].split()[1])
                for i in range(n)]

    def replay(self, pub, frm):
        rep = request(pub.cmd_endpoint, ["REPLAY", str(frm)])
        m = re.fullmatch(rb"BATCH (\d+) (\d+) (\d+)", rep[0])
        self.assertIsNotNone(m, rep[0])
        pairs = list(zip(rep[1::2], rep[2::2]))
        self.assertEqual(len(rep) % 2, 1)
        return tuple(int(x) for x in m.groups()), pairs

    def test_late_subscriber_catches_up(self):
        pub = self.publisher()
        self.emit_raw(pub, 3)
        r = self.run_cmd([HM_PUBLISHER, "emit", "state", "VM", "4", "ACTIVE", "RUNNING", "--endpoint", pub.cmd_endpoint])
        self.assertEqual(r.returncode, 0)
        (first, nxt, head), pairs = self.replay(pub, 1)
        self.assertEqual((first, nxt, head), (1, 5, 4))
        self.assertEqual([k for k, _ in pairs], [b"EVENT API one.vm.r0 1", b"EVENT API one.vm.r1 1",
                                                 b"EVENT API one.vm.r2 1", b"EVENT VM 4/ACTIVE/RUNNING ",
                                                 b"EVENT STATE VM/ACTIVE/RUNNING/4 "])
        self.assertEqual([decode(c).findtext("SEQ") for _, c in pairs], ["1", "2", "3", "4", "4"])
        (first, nxt, head), pairs = self.replay(pub, 3)
        self.assertEqual((first, nxt, head, len(pairs)), (3, 5, 4, 3))
        (first, nxt, head), pairs = self.replay(pub, 5)
        self.assertEqual((first, nxt, head, pairs), (5, 5, 4, []))
        # The single-frame form answers the same.
        self.assertEqual(request(pub.cmd_endpoint, ["REPLAY 3"]), request(pub.cmd_endpoint, ["REPLAY", "3"]))

    def test_replay_is_bounded_in_batches(self):
        pub = self.publisher()
        self.emit_raw(pub, 1100)
        (first, nxt, head), pairs = self.replay(pub, 1)
        self.assertEqual((first, head), (1, 1100))
        self.assertLess(nxt, 1101, "one answer does not carry everything")
        self.assertEqual(len(pairs), nxt - 1)
        got = len(pairs)
        while nxt <= head:
            (first, nxt, head), pairs = self.replay(pub, nxt)
            got += len(pairs)
        self.assertEqual(got, 1100)

    def test_retention_and_restart(self):
        pub = self.publisher(extra=["--journal-retention", "10"])
        self.emit_raw(pub, 25)
        (first, nxt, head), pairs = self.replay(pub, 1)
        self.assertEqual((first, nxt, head, len(pairs)), (16, 26, 25, 10), "only the newest 10 are kept")
        pub.stop()
        pub = self.publisher(extra=["--journal-retention", "10"], journal=pub.journal)
        self.assertEqual(self.emit_raw(pub, 1), [26], "the sequence continues after a restart")
        db = sqlite3.connect(pub.journal)
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        self.assertEqual(db.execute("SELECT count(*), min(seq), max(seq) FROM event").fetchone(), (10, 17, 26))
        db.close()

    def test_acked_events_survive_sigkill(self):
        pub = self.publisher()
        acked = self.emit_raw(pub, 50)
        pub.proc.send_signal(signal.SIGKILL)
        pub.proc.wait()
        pub = self.publisher(journal=pub.journal)
        (first, nxt, head), pairs = self.replay(pub, 1)
        self.assertEqual(head, 50)
        self.assertEqual([int(decode(c).findtext("SEQ")) for _, c in pairs], acked)
        self.assertEqual(self.emit_raw(pub, 1), [51])


class PipelinedBatchTest(DaemonTest):
    def test_one_batch_of_good_and_bad_emits(self):
        """A burst of EMITs in flight at once from one pipelining client (one group commit): each
        bad one is refused on its own, every good one is acked in turn with the next sequence
        number, published with exactly the bytes journaled (its text with SEQ after HOOK_TYPE
        when that text is libxml2's own serialization, its serialization otherwise), and is in
        the journal when the publisher is killed then."""
        import zmq
        pub = self.publisher()
        sub = self.subscriber(pub)
        settle_subscription(pub, sub)
        head = int(request(pub.cmd_endpoint, ["REPLAY 999999"])[0].split()[3])
        verbatim = [api_xml("one.vm.v%d" % i, params=("a &amp; b &lt;c&gt; caf\u00e9 %d" % i,)) for i in range(4)]
        reserialized = [
            api_xml("one.vm.attr").replace("</CALL_INFO>", '<EXTRA><X a="1"/></EXTRA></CALL_INFO>'),
            "<?xml version='1.0'?>\n" + vm_xml(7) + "\n",
            vm_xml(8).replace("<REMOTE_HOST/>", "<REMOTE_HOST></REMOTE_HOST>"),
            api_xml("one.vm.cdata", params=("<![CDATA[x<y]]>",)),
        ]
        bad = [b"!!not base64", b64("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE>").encode(),
               b64('<!DOCTYPE a [<!ENTITY x "y">]>' + api_xml()).encode(),
               b64("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE></HOOK_MESSAGE>").encode()]
        burst = []
        for i in range(120):
            if i % 10 == 3:
                burst.append(("bad", bad[(i // 10) % len(bad)], None))
            elif i % 10 == 6:
                x = reserialized[(i // 10) % len(reserialized)]
                burst.append(("reserialized", b64(x).encode(), x))
            else:
                x = verbatim[i % len(verbatim)]
                burst.append(("verbatim", b64(x).encode(), x))
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(s.close)
        s.connect(pub.cmd_endpoint)
        for _, content, _ in burst:
            s.send_multipart([b"", b"EMIT", content], copy=True)
        replies = []
        for _ in burst:
            self.assertTrue(s.poll(10000), "a reply for every EMIT")
            replies.append(s.recv_multipart()[1])
        acked = []
        for (kind, _, _), rep in zip(burst, replies):
            if kind == "bad":
                self.assertTrue(rep.startswith(b"ERROR "), rep)
            else:
                self.assertTrue(rep.startswith(b"ACK "), rep)
                acked.append(int(rep.split()[1]))
        self.assertEqual(acked, list(range(head + 1, head + 1 + len(acked))), "consecutive, in arrival order")
        # Such a group is checked and encoded by the loop and one helper thread per further CPU (at most 3),
        # and its journal synced by a thread of its own while the loop prepares the next group.
        tasks = "/proc/%d/task" % pub.proc.pid
        names = [open(os.path.join(tasks, t, "comm")).read().strip() for t in os.listdir(tasks)]
        self.assertEqual(names.count("hm-pub-check"), min(usable_cpus(pub.proc.pid) - 1, 3))
        self.assertEqual(names.count("hm-pub-sync"), 1)
        published = {}
        while set(published) != set(acked):
            m = sub.recv()
            self.assertIsNotNone(m, "every acked EMIT published")
            published.setdefault(int(decode(m[1]).findtext("SEQ")), []).append(m[1])
        pub.kill()
        db = sqlite3.connect(pub.journal)
        journal = dict(db.execute("SELECT seq, content FROM event WHERE seq > ?", (head,)).fetchall())
        db.close()
        self.assertEqual(sorted(journal), acked, "every acked EMIT journaled before its ACK")
        good = [(kind, x) for kind, _, x in burst if kind != "bad"]
        for seq, (kind, x) in zip(acked, good):
            for content in published[seq]:
                self.assertEqual(content, journal[seq].encode(), "published and journaled bytes are the same")
            text = base64.b64decode(journal[seq], validate=True).decode()
            if kind == "verbatim":
                at = x.index("</HOOK_TYPE>") + len("</HOOK_TYPE>")
                self.assertEqual(text, x[:at] + "<SEQ>%d</SEQ>" % seq + x[at:])
            else:
                got = ET.fromstring(text)
                self.assertEqual(got.findtext("SEQ"), str(seq))
                self.assertEqual(list(got)[1].tag, "SEQ", "SEQ right after HOOK_TYPE")
                got.remove(got.find("SEQ"))
                self.assertEqual(ET.tostring(got), ET.tostring(ET.fromstring(x.strip().split("?>")[-1].strip())))
                self.assertNotEqual(text, x, "serialized again")


class HighWaterMarkTest(DaemonTest):
    def test_slow_subscriber_sees_gaps_and_replays_them(self):
        """A subscriber that does not read while the PUB queue overflows (HWM 5) loses messages
        on the bus, sees the gaps in SEQ, and gets every missed event back with REPLAY."""
        import zmq
        pub = self.publisher(extra=["--hwm", "5"])
        sub = self.subscriber(pub)
        sub.sock.setsockopt(zmq.RCVHWM, 5)
        settle_subscription(pub, sub)
        acked = [int(request(pub.cmd_endpoint, ["EMIT", b64(api_xml("one.vm.h%d" % i, params=("x" * 2000,)))])[0].split()[1])
                 for i in range(3000)]
        seen = []
        while True:
            m = sub.recv(timeout_ms=500)
            if m is None:
                break
            seen.append(int(decode(m[1]).findtext("SEQ")))
        self.assertLess(len(seen), len(acked), "the tiny HWM dropped messages on the bus")
        self.assertEqual(seen, sorted(seen))
        missing = sorted(set(acked) - set(seen))
        recovered, nxt, head = [], missing[0], acked[-1]
        while nxt <= head:
            rep = request(pub.cmd_endpoint, ["REPLAY", str(nxt)])
            first, nxt, head = (int(x) for x in rep[0].split()[1:])
            recovered += [int(decode(c).findtext("SEQ")) for c in rep[2::2]]
        self.assertTrue(set(missing) <= set(recovered), "every lost event is in the journal")

    def test_sigint_stops_cleanly(self):
        pub = self.publisher()
        request(pub.cmd_endpoint, ["EMIT", b64(api_xml())])
        pub.proc.send_signal(signal.SIGINT)
        self.assertEqual(pub.proc.wait(timeout=20), 0)
        db = sqlite3.connect(pub.journal)
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        self.assertEqual(db.execute("SELECT count(*) FROM event").fetchone()[0], 1)
        db.close()
        self.assertIn("stopping at seq 1", pub.log_text())


class ConfigTest(DaemonTest):
    def test_check_config(self):
        conf = os.path.join(self.dir, "hm.conf")
        with open(conf, "w") as f:
            f.write("# test\nJOURNAL = /tmp/x.db\ncommand_endpoint = tcp://127.0.0.1:1\n"
                    "COMMAND_ENDPOINT = ipc:///tmp/y.sock\nHWM = 10\nMAX_MESSAGE_SIZE = 1M\n")
        r = self.run_cmd([HM_PUBLISHER, "serve", "-c", conf, "--check-config"])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "configuration OK"), r.stderr)
        r = self.run_cmd([HM_PUBLISHER, "--check-config", "-c", conf, "--hwm", "-1"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("HWM", r.stderr)
        with open(conf, "a") as f:
            f.write("BOGUS_KEY = 1\n")
        r = self.run_cmd([HM_PUBLISHER, "serve", "-c", conf, "--check-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("BOGUS_KEY", r.stderr)
        r = self.run_cmd([HM_PUBLISHER, "serve", "-c", os.path.join(self.dir, "missing.conf")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.conf", r.stderr)

    def test_shipped_config_is_valid(self):
        r = self.run_cmd([HM_PUBLISHER, "--check-config", "-c", os.path.join(SOURCE_DIR, "conf", "hm-publisher.conf")])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_ipc_socket_modes(self):
        pub = self.publisher()
        path = pub.ipc_endpoint[len("ipc://"):]
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o660)
        self.assertEqual(os.stat(os.path.dirname(path)).st_mode & 0o777, 0o750)
        self.assertTrue(request(pub.ipc_endpoint, ["EMIT", b64(api_xml())])[0].startswith(b"ACK "))

    def test_bad_endpoint_fails_to_start(self):
        r = self.run_cmd([HM_PUBLISHER, "serve", "--journal", os.path.join(self.dir, "j.db"),
                          "--publisher-endpoint", "bogus://x", "--command-endpoint", "ipc://%s/c.sock" % self.dir])
        self.assertEqual(r.returncode, 1)
        self.assertIn("PUBLISHER_ENDPOINT", r.stderr)


SOURCE_DIR = os.environ.get("HB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

if __name__ == "__main__":
    unittest.main(verbosity=2)
