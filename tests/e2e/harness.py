"""harness.py -- starts the real hookbus daemons in a temporary directory and talks ZeroMQ to them.

Every test gets its own directory, its own loopback ports and ipc sockets, and every process it
starts is stopped (and checked for a clean exit) when the test ends.
"""
import base64
import fcntl
import json
import os
import random
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


PORT_LOCKS = os.path.join(tempfile.gettempdir(), "hookbus-test-ports")
_held_ports = []


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """Returns a loopback TCP port that nothing listens on now and that no other test will be given.

    A port the kernel picked (bind to port 0) is from its ephemeral range: freed again at once, it
    can go to the next outgoing connection or to another test running beside this one before the
    daemon binds it. These come from below that range, where the kernel never picks one by itself,
    and each is reserved for the life of this process by a lock file that every test process
    honours (flock: released by the kernel when the process ends, however it ends)."""
    high = _ephemeral_low()
    low = 10000
    port = _reserved_port(low, high) if high - low >= 1000 else None
    if port is not None:
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reserved_port(low, high):
    """A port in [low, high) reserved by its lock file, or None when no lock file can be had."""
    if not os.path.isdir(PORT_LOCKS):
        # Shared by every user's test runs, as /tmp is: sticky and writable by all; a lock needs
        # only a descriptor open for reading.
        try:
            os.makedirs(PORT_LOCKS, exist_ok=True)
            os.chmod(PORT_LOCKS, 0o1777)
        except OSError:
            if not os.path.isdir(PORT_LOCKS):
                return None
    for _ in range(1000):
        port = random.randrange(low, high)
        try:
            fd = os.open(os.path.join(PORT_LOCKS, str(port)), os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
        except OSError:
            os.close(fd)
            continue
        _held_ports.append(fd)
        return port
    return None


def empty_config(d, name):
    """The path of an empty config file in directory d (created once): daemons given it with -c take
    every key from their flags and built-in defaults, never from /etc/hookbus."""
    path = os.path.join(d, "empty-" + name)
    if not os.path.exists(path):
        os.makedirs(d, exist_ok=True)
        with open(path, "w"):
            pass
    return path


def wait_for(cond, timeout=20.0, what="condition", interval=0.02):
    """Polls cond() every interval seconds until it returns a true value, which is returned; fails
    after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


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


class Daemon:
    """What the daemons of the tests share: a process (self.proc) whose output goes to self.out and
    whose log to self.log, named self.name in failures, given stop_timeout seconds to stop."""

    name = "daemon"
    stop_timeout = 20

    def stop(self):
        """SIGTERM, then checks that the daemon exits 0 on its own."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s did not stop on SIGTERM" % self.name)
        if code != 0:
            raise AssertionError("%s exited %d after SIGTERM; log:\n%s\n%s"
                                 % (self.name, code, self.log_text(), self.out_text()))

    def kill(self):
        """SIGKILL (no clean-up by the daemon at all), and waits for the process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_text(self):
        return _read(self.log)

    def out_text(self):
        return _read(self.out)


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Publisher(Daemon):
    """A running `hm-publisher serve` with its endpoints and journal in directory d."""

    name = "hm-publisher"

    def __init__(self, d, extra=(), journal=None):
        self.dir = d
        self.pick_ports()
        self.ipc_endpoint = "ipc://%s/run/publisher.sock" % d
        self.journal = journal or os.path.join(d, "state", "journal.db")
        self.log = os.path.join(d, "hm-publisher.log")
        self.out = os.path.join(d, "hm-publisher.out")
        self.extra = list(extra)
        self.proc = None

    def argv(self):
        # An explicit (empty) config file first, so that no test ever reads the machine's
        # /etc/hookbus (a package installed meanwhile would change every test); a "-c" in extra
        # comes later and wins.
        return [HM_PUBLISHER, "serve", "-c", empty_config(self.dir, "hm-publisher.conf"),
                "--publisher-endpoint", self.pub_endpoint,
                "--command-endpoint", self.cmd_endpoint, "--command-endpoint", self.ipc_endpoint,
                "--journal", self.journal, "--debug-level", "3", "--log", self.log] + self.extra

    def pick_ports(self):
        self.pub_port = free_port()
        self.cmd_port = free_port()
        self.pub_endpoint = "tcp://127.0.0.1:%d" % self.pub_port
        self.cmd_endpoint = "tcp://127.0.0.1:%d" % self.cmd_port

    def start(self):
        # free_port() only says a port is free now: a test running beside this one may bind it
        # first. A first start that loses that race takes other ports; a restart keeps its own,
        # which hem and the subscribers already use.
        for attempt in range(5):
            pos = os.path.getsize(self.out) if os.path.exists(self.out) else 0
            with open(self.out, "ab") as out:
                self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            try:
                wait_for(self.ready, what="hm-publisher to answer")
                break
            except AssertionError:
                with open(self.out) as f:
                    f.seek(pos)
                    lost = "Address already in use" in f.read()
                if self.started or not lost or attempt == 4:
                    raise
                self.pick_ports()
        self.started = True
        return self

    started = False

    def ready(self):
        if self.proc.poll() is not None:
            with open(self.out) as f:
                raise AssertionError("hm-publisher exited with %d: %s" % (self.proc.returncode, f.read()))
        try:
            reply = request(self.cmd_endpoint, [b"REPLAY 1"], timeout_ms=200)
        except TimeoutError:
            return False
        return reply[0].startswith(b"BATCH ")


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
        # addCleanup, not tearDown: it also runs when a subclass's setUp fails half-way, so the
        # daemons started before the failure never outlive the test.
        self.addCleanup(self.clean_up)

    def clean_up(self):
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


# --- hem ----------------------------------------------------------------------------------------

import sqlite3  # noqa: E402
import xml.etree.ElementTree as ET  # noqa: E402

HEM = os.path.join(BUILD, "hem", "hem")
RESOURCES = os.path.join(SOURCE, "conf", "resources.conf")


class ControlError(Exception):
    """hem's control endpoint answered ERROR; the exception's text is the reason it gave."""


class Hem(Daemon):
    """A running hem with its database, hook directory, control socket and log in directory d.

    It follows the bus at subscriber_endpoint (default: the publisher's PUB) and asks the
    publisher's command endpoint for REPLAY. Starting it again with the same directory (after
    stop() or kill()) reopens the same database."""

    name = "hem"
    stop_timeout = 30

    def __init__(self, d, pub, extra=(), env=None, subscriber_endpoint=None):
        self.dir = d
        self.subscriber_endpoint = subscriber_endpoint or pub.pub_endpoint
        self.publisher_command_endpoint = pub.cmd_endpoint
        self.control_endpoint = "ipc://%s/run/hem.sock" % d
        self.database = os.path.join(d, "hem.db")
        self.hook_base_path = os.path.join(d, "hooks")
        self.log = os.path.join(d, "hem.log")
        self.out = os.path.join(d, "hem.out")
        self.extra = list(extra)
        self.env = env
        self.preexec = None   # run in the child before hem's exec (a disposition it inherits, say)
        self.proc = None
        os.makedirs(self.hook_base_path, mode=0o755, exist_ok=True)
        os.chmod(self.hook_base_path, 0o755)

    def argv(self):
        return [HEM, "-c", empty_config(self.dir, "hem.conf"), "--subscriber-endpoint", self.subscriber_endpoint,
                "--publisher-command-endpoint", self.publisher_command_endpoint,
                "--control-endpoint", self.control_endpoint, "--database", self.database,
                "--hook-base-path", self.hook_base_path, "--resources", RESOURCES,
                "--log", self.log, "--debug-level", "3"] + self.extra

    def start(self):
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         cwd=self.dir, env=self.env, preexec_fn=self.preexec)
        wait_for(self.ready, what="hem to answer on its control endpoint")
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("hem exited with %d: %s\n%s" % (self.proc.returncode, self.out_text(), self.log_text()))
        try:
            reply = request(self.control_endpoint, [b"POOL"], timeout_ms=200)
        except TimeoutError:
            return False
        return reply[0] == b"OK"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


    # The control API (docs/PROTOCOL.md): one request, an answer of OK + payload or ERROR + reason.

    def control(self, *frames, timeout_ms=10000):
        """Sends one request and returns (status, payload) as strings."""
        reply = request(self.control_endpoint, [f if isinstance(f, bytes) else str(f).encode() for f in frames],
                        timeout_ms=timeout_ms)
        if len(reply) != 2 or reply[0] not in (b"OK", b"ERROR"):
            raise AssertionError("malformed control answer %r" % (reply,))
        return reply[0].decode(), reply[1].decode("utf-8", "replace")

    def call(self, *frames):
        """Sends one request and returns the OK payload; raises ControlError on ERROR."""
        status, payload = self.control(*frames)
        if status != "OK":
            raise ControlError(payload)
        return payload

    def allocate(self, template):
        return int(self.call("ALLOCATE", template))

    def info_xml(self, hook_id, exec_id=None):
        """The text of the HOOK document (or of one HOOK_EXECUTION_RECORD)."""
        return self.call(*(["INFO", hook_id] + ([] if exec_id is None else [exec_id])))

    def info(self, hook_id, exec_id=None):
        return ET.fromstring(self.info_xml(hook_id, exec_id))

    def pool_xml(self):
        return self.call("POOL")

    def pool(self):
        return ET.fromstring(self.pool_xml())

    def log_xml(self, since=-1, until=-1, hook_id=-1, which="all"):
        """The text of the HOOKLOG answer to LOG (-1: no filter)."""
        return self.call("LOG", since, until, hook_id, which)

    def log_query(self, since=-1, until=-1, hook_id=-1, which="all"):
        return ET.fromstring(self.log_xml(since, until, hook_id, which))

    # Reading hem.db directly (WAL: safe while hem writes).

    def db(self, sql, args=()):
        con = sqlite3.connect(self.database, timeout=20)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def last_seq(self):
        return self.db("SELECT value FROM meta WHERE key = 'last_seq'")[0][0]


def _daemon_test_hem(self, pub, extra=(), env=None, subscriber_endpoint=None):
    """Starts hem in the test's directory (see Hem); it is stopped (exit 0 checked) at the end."""
    h = Hem(self.dir, pub, extra, env, subscriber_endpoint)
    self.cleanups.append(h.kill)
    self.cleanups.append(h.stop)
    return h.start()


DaemonTest.hem = _daemon_test_hem


# --- runc ---------------------------------------------------------------------------------------

class RuncCase(DaemonTest):
    """Real containers (test_oci, test_blocking): runc runs a busybox bundle in DIR/bundle whose command
    leaves DIR/out/ran; subclasses skip themselves unless root. Containers are deleted at the end."""

    def setUp(self):
        super().setUp()
        self.runc = shutil.which("runc")
        self.assertIsNotNone(self.runc, "runc is not installed (scripts/setup installs it)")
        busybox = "/bin/busybox"
        self.assertTrue(os.path.exists(busybox), "busybox-static is not installed (scripts/setup installs it)")
        self.root = os.path.join(self.dir, "runc-root")
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out)
        self.bundle = os.path.join(self.dir, "bundle")
        rootfs = os.path.join(self.bundle, "rootfs")
        for d in ("bin", "proc", "dev", "sys", "tmp", "out"):
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy2(busybox, os.path.join(rootfs, "bin", "busybox"))
        for applet in ("sh", "true", "echo"):
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
        r = subprocess.run([self.runc, "spec"], cwd=self.bundle, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.ids = []
        self.cleanups.append(self.delete_containers)

    def delete_containers(self):
        for cid in self.ids:
            subprocess.run([self.runc, "--root", self.root, "delete", "--force", cid], capture_output=True, timeout=60)
        if os.path.isdir(self.root):
            r = subprocess.run([self.runc, "--root", self.root, "list", "-q"], capture_output=True, text=True,
                               timeout=60)
            if r.stdout.strip():
                raise AssertionError("containers left behind: %s" % r.stdout)

    def configure(self, hooks, annotations=None, user=None):
        """Writes config.json: no terminal, a command that leaves a mark in out/, the hooks, and the
        process's user ({"uid": .., "gid": ..}) when given."""
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            c = json.load(f)
        c["process"]["terminal"] = False
        c["process"]["args"] = ["/bin/sh", "-c", "echo ran > /out/ran"]
        c["root"]["readonly"] = True
        c["mounts"].append({"destination": "/out", "type": "bind", "source": self.out, "options": ["rbind", "rw"]})
        c["hooks"] = hooks
        c["annotations"] = annotations or {}
        if user is not None:
            c["process"]["user"] = user
        with open(path, "w") as f:
            json.dump(c, f, indent=1)

    def run_container(self):
        """runc run of the bundle as a new container; returns (id, CompletedProcess)."""
        cid = "hb-oci-%d-%d" % (os.getpid(), len(self.ids))
        self.ids.append(cid)
        r = subprocess.run([self.runc, "--root", self.root, "run", "-b", self.bundle, cid],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        return cid, r

    def ran(self):
        return os.path.exists(os.path.join(self.out, "ran"))

    @staticmethod
    def oci_hook(stage, *opts):
        """config.json's hook object that runs oci-hook at stage."""
        return {"path": os.path.realpath(HM_PUBLISHER), "args": ["hm-publisher", "oci-hook", stage] + list(opts)}
