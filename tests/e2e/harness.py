"""harness.py -- starts the real hookbus daemons in a temporary directory and talks ZeroMQ to them.

Every test gets its own directory, its own loopback ports and ipc sockets, and every process it
starts is stopped (and checked for a clean exit) when the test ends.
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import zmq

BUILD = os.environ.get("HB_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("HB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
HM_PUBLISHER = os.path.join(BUILD, "hm-publisher", "hm-publisher")


def free_port():
    """Returns a loopback TCP port that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=20.0, what="condition"):
    """Polls cond() until it returns a true value, which is returned; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def api_xml(call="one.vm.allocate", result=1, params=("****",)):
    ps = "".join("<PARAMETER><POSITION>%d</POSITION><TYPE>IN</TYPE><VALUE>%s</VALUE></PARAMETER>"
                 % (i + 1, v) for i, v in enumerate(params))
    return ("<HOOK_MESSAGE><HOOK_TYPE>API</HOOK_TYPE><CALL>%s</CALL><CALL_INFO><RESULT>%d</RESULT>"
            "<PARAMETERS>%s</PARAMETERS></CALL_INFO></HOOK_MESSAGE>" % (call, result, ps))


def vm_xml(vm_id=0, state="PENDING", lcm="LCM_INIT"):
    return ("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>VM</HOOK_OBJECT><STATE>%s</STATE>"
            "<LCM_STATE>%s</LCM_STATE><RESOURCE_ID>%s</RESOURCE_ID><REMOTE_HOST/><VM><ID>%s</ID></VM>"
            "</HOOK_MESSAGE>" % (state, lcm, vm_id, vm_id))


class Publisher:
    """A running `hm-publisher serve` with its endpoints and journal in directory d."""

    def __init__(self, d, extra=(), journal=None):
        self.dir = d
        self.pub_port = free_port()
        self.cmd_port = free_port()
        self.pub_endpoint = "tcp://127.0.0.1:%d" % self.pub_port
        self.cmd_endpoint = "tcp://127.0.0.1:%d" % self.cmd_port
        self.ipc_endpoint = "ipc://%s/run/publisher.sock" % d
        self.journal = journal or os.path.join(d, "state", "journal.db")
        self.log = os.path.join(d, "hm-publisher.log")
        self.out = os.path.join(d, "hm-publisher.out")
        self.extra = list(extra)
        self.proc = None

    def argv(self):
        return [HM_PUBLISHER, "serve", "--publisher-endpoint", self.pub_endpoint,
                "--command-endpoint", self.cmd_endpoint, "--command-endpoint", self.ipc_endpoint,
                "--journal", self.journal, "--debug-level", "3", "--log", self.log] + self.extra

    def start(self):
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        wait_for(self.ready, what="hm-publisher to answer")
        return self

    def ready(self):
        if self.proc.poll() is not None:
            with open(self.out) as f:
                raise AssertionError("hm-publisher exited with %d: %s" % (self.proc.returncode, f.read()))
        try:
            reply = request(self.cmd_endpoint, [b"REPLAY 1"], timeout_ms=200)
        except TimeoutError:
            return False
        return reply[0].startswith(b"BATCH ")

    def stop(self):
        """SIGTERM, then checks that the daemon exits 0 on its own."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hm-publisher did not stop on SIGTERM")
        if code != 0:
            with open(self.out) as f:
                raise AssertionError("hm-publisher exited %d after SIGTERM; log:\n%s\n%s" % (code, self.log_text(), f.read()))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""


_ctx = zmq.Context.instance()


def request(endpoint, frames, timeout_ms=5000):
    """Sends frames on a fresh REQ socket and returns the reply's frames; TimeoutError if none."""
    s = _ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    try:
        s.connect(endpoint)
        s.send_multipart([f.encode() if isinstance(f, str) else f for f in frames])
        if not s.poll(timeout_ms):
            raise TimeoutError("no reply from " + endpoint)
        return s.recv_multipart()
    finally:
        s.close()


class Subscriber:
    """A SUB socket on the bus, subscribed to the given key prefixes."""

    def __init__(self, endpoint, prefixes=("",)):
        self.sock = _ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        for p in prefixes:
            self.sock.setsockopt(zmq.SUBSCRIBE, p.encode())
        self.sock.connect(endpoint)

    def recv(self, timeout_ms=5000):
        """Returns the next message's frames, or None when none comes in time."""
        if not self.sock.poll(timeout_ms):
            return None
        return self.sock.recv_multipart()

    def close(self):
        self.sock.close()


def settle_subscription(pub, sub):
    """Emits probe events until sub receives one, so that later messages are not lost to the
    ZeroMQ slow-joiner window; returns the number of probes sent. sub must see API events."""
    for i in range(200):
        request(pub.cmd_endpoint, ["EMIT", b64(api_xml("hookbus.test.probe"))])
        m = sub.recv(timeout_ms=50)
        if m is not None:
            while sub.recv(timeout_ms=100) is not None:
                pass
            return i + 1
    raise AssertionError("subscriber never connected")


class DaemonTest(unittest.TestCase):
    """A test case with its own temporary directory and process clean-up."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="hookbus-test-")
        self.cleanups = []

    def tearDown(self):
        errors = []
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # every clean-up runs; the first failure is reported
                errors.append(e)
        shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise errors[0]

    def publisher(self, extra=(), journal=None):
        p = Publisher(self.dir, extra, journal)
        self.cleanups.append(p.kill)
        self.cleanups.append(p.stop)
        return p.start()

    def subscriber(self, pub, prefixes=("",)):
        s = Subscriber(pub.pub_endpoint, prefixes)
        self.cleanups.append(s.close)
        return s

    def run_cmd(self, argv, stdin=None, timeout=30):
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, text=True)
