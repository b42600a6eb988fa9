"""test_fastpath.py -- proves that `hm-publisher emit` and `oci-hook` given a unix:// endpoint go
through the daemon's local ingest socket (LOCAL_ENDPOINT) from a launcher that loads neither libzmq,
libxml2 nor sqlite, and publish exactly the event the ZeroMQ path publishes; that bad arguments, bad
input and hostile clients get the right answers and exit statuses while the daemon stays up; that a
publisher that is down gives status 3 (emit) or the fail-open policy (oci-hook); and that a stale
socket file is replaced while a live one is refused."""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import unittest
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import (BUILD, HM_PUBLISHER, DaemonTest, Publisher, free_port,  # noqa: E402
                     settle_subscription)

CORE = os.path.join(BUILD, "hm-publisher", "hm-publisher-core")
CONFIG = {"ociVersion": "1.0.2", "hostname": "web",
          "process": {"args": ["/bin/sh", "-c", "echo <&>"], "user": {"uid": 1000, "gid": 100}},
          "root": {"path": "rootfs", "readonly": True},
          "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}]}
OBJECT = "<VM><ID>7</ID><NAME>web &amp; db</NAME><TEMPLATE><CPU>1</CPU></TEMPLATE></VM>"


def state_json(cid="c1", bundle=None):
    s = {"ociVersion": "1.0.2", "id": cid, "status": "creating", "pid": 4242,
         "annotations": {"team": "<blue>"}}
    if bundle is not None:
        s["bundle"] = bundle
    return json.dumps(s)


def packet(verb, args, payloads=()):
    """A local ingest request as docs/PROTOCOL.md defines it."""
    fields = [verb.encode()] + [a.encode() for a in args]
    for name, data in payloads:
        fields += [name.encode(), data]
    body = b"".join(struct.pack(">I", len(f)) + f for f in fields)
    return b"HBL1" + struct.pack(">III", 16 + len(body), len(args), len(payloads)) + body


def without_seq(raw):
    """The published document with SEQ taken out, serialized again for comparison."""
    root = ET.fromstring(raw)
    for seq in root.findall("SEQ"):
        root.remove(seq)
    return ET.tostring(root)


class FastPathCase(DaemonTest):
    def setUp(self):
        super().setUp()
        self.local = "unix://%s/run/publisher.local" % self.dir
        self.pub = self.publisher(["--local-endpoint", self.local])
        self.sub = self.subscriber(self.pub, ("EVENT ",))
        settle_subscription(self.pub, self.sub)

    def run_hm(self, argv, stdin=None, prog=HM_PUBLISHER):
        return subprocess.run([prog] + argv, input=stdin.encode() if isinstance(stdin, str) else stdin,
                              capture_output=True, timeout=60)

    def published(self):
        """The next event on the bus, probes skipped: (first key, document without SEQ)."""
        while True:
            m = self.sub.recv(timeout_ms=10000)
            self.assertIsNotNone(m, "no event was published")
            if b"hookbus.test.probe" in m[0]:
                continue
            keys = [m[0]]
            content = m[1]
            while True:   # the other keys of a state event carry the same content
                n = self.sub.recv(timeout_ms=200)
                if n is None:
                    break
                self.assertEqual(n[1], content)
                keys.append(n[0])
            return keys, without_seq(base64.b64decode(content, validate=True))

    def both_paths(self, argv, stdin=None):
        """Runs argv over the local socket and over the command endpoint; returns both events."""
        out = []
        for ep in (self.local, self.pub.cmd_endpoint):
            r = self.run_hm(argv + ["--endpoint", ep], stdin)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            out.append(self.published())
        return out

    def alive(self):
        r = self.run_hm(["emit", "api", "one.alive", "--result", "1", "-q", "--endpoint", self.local])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(b"EVENT API one.alive 1", self.published()[0][0])


class SameEventTest(FastPathCase):
    def test_launcher_loads_no_heavy_library(self):
        """The launcher links neither libzmq, libxml2 nor sqlite; the core does."""
        launcher = subprocess.run(["ldd", HM_PUBLISHER], capture_output=True, text=True, check=True).stdout
        for lib in ("libzmq", "libxml2", "libsqlite3"):
            self.assertNotIn(lib, launcher)
        core = subprocess.run(["ldd", CORE], capture_output=True, text=True, check=True).stdout
        self.assertIn("libzmq", core)

    def test_emit_api(self):
        """emit api over unix:// prints the sequence number and publishes what the ZeroMQ path does."""
        r = self.run_hm(["emit", "api", "one.vm.allocate", "--result", "1", "--param", "<x>&",
                         "--out", "7", "--extra", "<E><A>1</A></E>", "--endpoint", self.local])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertRegex(r.stdout.decode(), r"^\d+\n$")
        self.published()
        local, zmq_ = self.both_paths(["emit", "api", "one.vm.allocate", "--result", "0", "--param", "<x>&",
                                       "-q"])
        self.assertEqual(local, zmq_)
        self.assertEqual(local[0], [b"EVENT API one.vm.allocate 0"])

    def test_emit_state_with_object(self):
        """emit state --object FILE and --object - send the object's text; the event is the same."""
        path = os.path.join(self.dir, "vm.xml")
        with open(path, "w") as f:
            f.write(OBJECT)
        args = ["emit", "state", "VM", "7", "ACTIVE", "RUNNING", "--remote-host", "h1", "--service-id", "3", "-q"]
        local, zmq_ = self.both_paths(args + ["--object", path])
        self.assertEqual(local, zmq_)
        self.assertEqual(len(local[0]), 3)
        self.assertIn(b"web &amp; db", local[1])
        local2, zmq2 = self.both_paths(args + ["--object", "-"], stdin=OBJECT)
        self.assertEqual(local2, zmq2)
        self.assertEqual(local2, local)

    def test_oci_hook(self):
        """oci-hook sends the state and config.json's text; the CONTAINER event is the same."""
        bundle = os.path.join(self.dir, "bundle")
        os.makedirs(bundle)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(CONFIG, f)
        local, zmq_ = self.both_paths(["oci-hook", "createRuntime"], stdin=state_json("web-1", bundle))
        self.assertEqual(local, zmq_)
        self.assertEqual(local[0][0], b"EVENT CONTAINER web-1/CREATE_RUNTIME/ ")
        self.assertIn(b"<HOSTNAME>web</HOSTNAME>", local[1])
        # A bad config.json: the same warning, and an event without what it says.
        with open(os.path.join(bundle, "config.json"), "w") as f:
            f.write("{not json")
        r = self.run_hm(["oci-hook", "poststop", "--fail-closed", "--endpoint", self.local],
                        state_json("web-1", bundle))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("the event lacks what config.json says", r.stderr.decode())
        self.assertNotIn(b"<HOSTNAME>", self.published()[1])

    def test_endpoint_from_config_file(self):
        """-c FILE takes LOCAL_ENDPOINT before COMMAND_ENDPOINT (here one nobody listens on), for the
        launcher and the core alike."""
        conf = os.path.join(self.dir, "client.conf")
        with open(conf, "w") as f:
            f.write('COMMAND_ENDPOINT = "tcp://127.0.0.1:1"\nLOCAL_ENDPOINT = "%s"\n' % self.local)
        for prog in (HM_PUBLISHER, CORE):
            r = self.run_hm(["emit", "api", "one.conf", "--result", "1", "-q", "-c", conf, "--timeout", "2000"],
                            prog=prog)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(self.published()[0], [b"EVENT API one.conf 1"])

    def test_metrics_count_local_requests(self):
        """A local request is counted with the EMITs it is one of."""
        port = free_port()
        d = os.path.join(self.dir, "m")
        os.makedirs(d)
        pub = self.publisher_in(d, ["--local-endpoint", "unix://%s/l.sock" % d,
                                    "--metrics-listen", "127.0.0.1:%d" % port])
        r = self.run_hm(["emit", "api", "one.m", "--result", "1", "-q", "--endpoint", "unix://%s/l.sock" % d])
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
        self.assertIn('hookbus_publisher_events_received_total{type="api"} 1', text)
        self.assertIn('hookbus_publisher_events_published_total{type="api"} 1', text)
        pub.stop()

    def publisher_in(self, d, extra):
        p = Publisher(d, extra)
        self.cleanups.append(p.kill)
        self.cleanups.append(p.stop)
        return p.start()


class BadInputTest(FastPathCase):
    def test_arguments_and_input(self):
        """Bad arguments and input exit 2 (with the daemon's reason), a refused event 1; the daemon
        stays up."""
        cases = [
            (["emit", "api", "x"], 2, "needs --result 0 or --result 1"),
            (["emit", "state", "vm", "1", "ACTIVE"], 2, "is not an object name"),
            (["emit", "api", "x", "--result", "1", "--extra", "<unclosed>"], 2, ""),
            (["emit", "nothing"], 2, "emit needs 'api' or 'state'"),
            (["emit", "state", "VM", "1", "ACTIVE", "RUNNING", "--object", "/nonexistent"], 2, "--object"),
            (["oci-hook", "bogusStage"], 2, "is not an OCI hook stage"),
        ]
        for argv, status, text in cases:
            with self.subTest(argv=argv):
                r = self.run_hm(argv + ["--endpoint", self.local], stdin="")
                self.assertEqual(r.returncode, status, r.stderr.decode())
                self.assertIn(text, r.stderr.decode())
        bad = os.path.join(self.dir, "bad.xml")
        with open(bad, "w") as f:
            f.write("<VM><ID>1</ID>")
        r = self.run_hm(["emit", "state", "VM", "1", "ACTIVE", "RUNNING", "--object", bad, "--endpoint", self.local])
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertIn("--object", r.stderr.decode())
        big = os.path.join(self.dir, "big.xml")
        with open(big, "w") as f:
            f.write("<VM><ID>1</ID><X>" + "a" * (5 << 20) + "</X></VM>")
        r = self.run_hm(["emit", "state", "VM", "1", "ACTIVE", "RUNNING", "--object", big, "--endpoint", self.local])
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.assertIn("larger than", r.stderr.decode())
        # Malformed state JSON: fail-open 0, --fail-closed 2.
        r = self.run_hm(["oci-hook", "createRuntime", "--endpoint", self.local], stdin="{not json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("fail-open", r.stderr.decode())
        r = self.run_hm(["oci-hook", "createRuntime", "--fail-closed", "--endpoint", self.local], stdin="{not json")
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        self.alive()

    def test_refused_by_the_publisher(self):
        """An event larger than MAX_MESSAGE_SIZE is refused as over ZeroMQ: status 1, or the oci-hook
        policy."""
        d = os.path.join(self.dir, "small")
        os.makedirs(d)
        small = Publisher(d, ["--local-endpoint", "unix://%s/l.sock" % d, "--max-message-size", "2048"])
        self.cleanups.append(small.kill)
        self.cleanups.append(small.stop)
        small.start()
        obj = os.path.join(self.dir, "obj.xml")
        with open(obj, "w") as f:
            f.write("<VM><ID>1</ID><X>" + "a" * 4000 + "</X></VM>")
        for ep in ("unix://%s/l.sock" % d, small.cmd_endpoint):
            r = self.run_hm(["emit", "state", "VM", "1", "ACTIVE", "RUNNING", "--object", obj, "--endpoint", ep])
            self.assertEqual(r.returncode, 1, r.stderr.decode())
            self.assertIn("refused by the publisher", r.stderr.decode())
        stdin = json.dumps({"ociVersion": "1.0.2", "id": "r1", "status": "creating",
                            "annotations": {"k": "v" * 4000}})
        r = self.run_hm(["oci-hook", "poststop", "--endpoint", "unix://%s/l.sock" % d], stdin)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        r = self.run_hm(["oci-hook", "poststop", "--fail-closed", "--endpoint", "unix://%s/l.sock" % d], stdin)
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        self.assertIn("refused by the publisher", r.stderr.decode())

    def raw(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.cleanups.append(s.close)
        s.settimeout(20)
        s.connect(self.local[len("unix://"):])
        return s

    def test_hostile_clients(self):
        """Garbage, a lying length, an oversized packet, an unknown verb and a malformed field each get
        an ERROR answer; a client that sends nothing is dropped; a client that leaves before its ACK
        costs nothing; the daemon serves others meanwhile."""
        silent = self.raw()
        hostile = [
            b"garbage that is not a request",
            b"HBL1" + struct.pack(">III", 1 << 30, 0, 0),
            packet("emit", ["api"])[:-2],
            b"HBL1" + struct.pack(">III", 100000, 0, 0) + b"x" * 70000,
            packet("format-disk", []),
            b"HBL1" + struct.pack(">III", 16 + 8, 1, 0) + struct.pack(">I", 4) + b"emit" + struct.pack(">I", 99),
            packet("emit", ["api", "x\0y"]),
        ]
        for data in hostile:
            with self.subTest(data=data[:40]):
                s = self.raw()
                try:
                    s.send(data)
                except OSError:
                    pass
                answer = s.recv(4096)
                self.assertTrue(answer.startswith(b"ERROR "), answer)
                s.close()
        # Bad arguments in a well-formed request are INVALID (status 2 for the client).
        s = self.raw()
        s.send(packet("emit", ["api", "x"]))
        self.assertTrue(s.recv(4096).startswith(b"INVALID "))
        # A client that leaves before its ACK: the event is still published, nothing breaks.
        s = self.raw()
        s.send(packet("emit", ["api", "one.early", "--result", "1"]))
        s.close()
        self.assertEqual(self.published()[0], [b"EVENT API one.early 1"])
        self.alive()
        # The silent client is dropped (with an ERROR) once idle for 5 s; the daemon is still up.
        self.assertTrue(silent.recv(4096).startswith(b"ERROR "))
        self.alive()


class DownTest(DaemonTest):
    def test_publisher_down(self):
        """No daemon on the socket: emit exits 3, and 2 with its reason for arguments the daemon
        would have refused; oci-hook warns and exits 0, or 3 with --fail-closed."""
        ep = "unix://%s/run/none.local" % self.dir
        r = subprocess.run([HM_PUBLISHER, "emit", "api", "x", "--result", "1", "--endpoint", ep],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr.decode())
        self.assertIn("is the daemon running?", r.stderr.decode())
        for argv, text in ((["emit", "api", "x", "--result", "1", "--extra", "<unclosed>"], "EXTRA"),
                           (["emit", "state", "VM", "1", "ACTIVE"], "needs an LCM state")):
            with self.subTest(argv=argv):
                r = subprocess.run([HM_PUBLISHER] + argv + ["--endpoint", ep], capture_output=True, timeout=60)
                self.assertEqual(r.returncode, 2, r.stderr.decode())
                self.assertIn(text, r.stderr.decode())
        r = subprocess.run([HM_PUBLISHER, "oci-hook", "poststart", "--endpoint", ep], input=state_json().encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("fail-open", r.stderr.decode())
        r = subprocess.run([HM_PUBLISHER, "oci-hook", "poststart", "--fail-closed", "--endpoint", ep],
                           input=state_json().encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr.decode())

    def test_stale_and_live_socket(self):
        """A socket file left by a killed daemon is replaced at start; one a live daemon serves makes a
        second daemon refuse to start; a clean stop removes the file."""
        local = "unix://%s/run/publisher.local" % self.dir
        path = local[len("unix://"):]
        first = self.publisher(["--local-endpoint", local])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o660)
        first.kill()
        self.assertTrue(os.path.exists(path))
        second = self.publisher(["--local-endpoint", local])
        r = subprocess.run([HM_PUBLISHER, "emit", "api", "x", "--result", "1", "--endpoint", local],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        d = os.path.join(self.dir, "other")
        os.makedirs(d)
        third = Publisher(d, ["--local-endpoint", local])
        r = subprocess.run(third.argv(), capture_output=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        with open(third.log) as f:
            self.assertIn("in use", f.read() + r.stderr.decode())
        second.stop()
        self.assertFalse(os.path.exists(path))

    def test_bad_local_endpoint(self):
        """--check-config refuses a LOCAL_ENDPOINT that is not unix:// and an absolute path."""
        for bad in ("ipc:///tmp/x", "unix://relative", "unix:///" + "x" * 200):
            r = subprocess.run([HM_PUBLISHER, "--check-config", "-c", "/dev/null", "--local-endpoint", bad],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("LOCAL_ENDPOINT", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
