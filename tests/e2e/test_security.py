"""test_security.py -- proves the controls of SECURITY.md that test_hem.py and test_publisher.py do not
already cover: CURVE with a ZAP allow-list on hm-publisher's TCP endpoints (an unknown client key gets
no messages and no answer, a listed one is served: PUB, EMIT, `emit`, and hem as a CURVE client),
`hm-publisher keygen`, hem refusing world-writable database and hook paths, and every size limit
answered with an error while the daemons stay up (control frames, template size, request frames,
argument size)."""
import os
import stat
import subprocess
import sys
import unittest

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from harness import (HM_PUBLISHER, DaemonTest, Hem, Publisher, api_xml, b64,  # noqa: E402
                     request, wait_for)

WAIT = 30.0
_ctx = zmq.Context.instance()


def keygen():
    """A new (public, secret) pair from `hm-publisher keygen`."""
    r = subprocess.run([HM_PUBLISHER, "keygen"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("keygen failed: " + r.stderr)
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    return lines["public-key"], lines["secret-key"]


def curve_socket(kind, server_public, pair):
    """A socket of kind that is a CURVE client with key pair (public, secret), or plain when pair is None."""
    s = _ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if pair is not None:
        s.curve_serverkey = server_public.encode()
        s.curve_publickey = pair[0].encode()
        s.curve_secretkey = pair[1].encode()
    return s


class CurvePublisher(Publisher):
    """hm-publisher whose TCP endpoints are CURVE servers; checked ready through its (plain) ipc endpoint."""

    def ready(self):
        if self.proc.poll() is not None:
            with open(self.out) as f:
                raise AssertionError("hm-publisher exited with %d: %s" % (self.proc.returncode, f.read()))
        try:
            reply = request(self.ipc_endpoint, [b"REPLAY 1"], timeout_ms=200)
        except TimeoutError:
            return False
        return reply[0].startswith(b"BATCH ")


class CurveTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.server = keygen()
        self.good = keygen()
        self.bad = keygen()
        allowed = os.path.join(self.dir, "allowed_clients")
        with open(allowed, "w") as f:
            f.write("# the clients hm-publisher admits\n\n%s\n" % self.good[0])
        secret = os.path.join(self.dir, "server.key")
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (self.server[1] + "\n").encode())
        os.close(fd)
        self.pub = CurvePublisher(self.dir, ["--curve-secret-key", secret, "--curve-server-key", self.server[0],
                                             "--curve-allowed-clients", allowed])
        self.cleanups.append(self.pub.kill)
        self.cleanups.append(self.pub.stop)
        self.pub.start()

    def emit_with(self, pair, endpoint=None, timeout_ms=2000):
        """EMITs one event as a CURVE client with pair (None: plain); returns the answer or None."""
        s = curve_socket(zmq.REQ, self.server[0], pair)
        try:
            s.connect(endpoint or self.pub.cmd_endpoint)
            s.send_multipart([b"EMIT", b64(api_xml("one.vm.allocate")).encode()])
            return s.recv_multipart()[0] if s.poll(timeout_ms) else None
        finally:
            s.close()

    def test_emit_unknown_key_refused_known_served(self):
        """On the TCP command endpoint: a listed key is acknowledged; an unknown key and a plain client
        get no answer and publish nothing (the next acked event takes the next seq); the refusal is
        logged; the ipc endpoint stays plain."""
        first = self.emit_with(self.good)
        self.assertTrue(first.startswith(b"ACK "), first)
        self.assertIsNone(self.emit_with(self.bad), "an unknown key was answered")
        self.assertIsNone(self.emit_with(None), "a plain client was answered")
        again = self.emit_with(self.good)
        self.assertEqual(int(again.split()[1]), int(first.split()[1]) + 1, "a refused client emitted something")
        wait_for(lambda: "is not allowed" in self.pub.log_text(), WAIT, "the refusal in the log")
        self.assertIn(self.bad[0], self.pub.log_text())
        self.assertTrue(request(self.pub.ipc_endpoint, ["EMIT", b64(api_xml())])[0].startswith(b"ACK "))

    def test_pub_unknown_key_gets_no_messages(self):
        """On the PUB endpoint: a subscriber with a listed key receives the events; one with an
        unknown key, and a plain one, receive none of them."""
        subs = {}
        for name, pair in (("good", self.good), ("bad", self.bad), ("plain", None)):
            s = curve_socket(zmq.SUB, self.server[0], pair)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(self.pub.pub_endpoint)
            self.cleanups.append(s.close)
            subs[name] = s
        sent = 0
        while not subs["good"].poll(100):
            self.assertTrue(self.emit_with(self.good).startswith(b"ACK "))
            sent += 1
            self.assertLess(sent, 200, "the listed subscriber never received anything")
        for _ in range(5):
            self.assertTrue(self.emit_with(self.good).startswith(b"ACK "))
        got = 0
        while subs["good"].poll(1000):
            subs["good"].recv_multipart()
            got += 1
            if got >= 5:
                break
        self.assertGreaterEqual(got, 5)
        self.assertEqual(subs["bad"].poll(500), 0, "an unknown key received a message")
        self.assertEqual(subs["plain"].poll(0), 0, "a plain subscriber received a message")

    def test_emit_command_takes_its_keys_from_the_environment(self):
        """`hm-publisher emit` with HOOKBUS_CURVE_* (values or key files) is acknowledged with a listed
        key, gets no answer (exit 3) with an unknown one, and refuses a world-readable secret key file."""
        argv = [HM_PUBLISHER, "emit", "api", "one.vm.allocate", "--result", "1", "--endpoint", self.pub.cmd_endpoint,
                "--timeout", "2000"]
        secret = os.path.join(self.dir, "client.key")
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, self.good[1].encode())
        os.close(fd)
        env = dict(os.environ, HOOKBUS_CURVE_SERVER_KEY=self.server[0], HOOKBUS_CURVE_PUBLIC_KEY=self.good[0],
                   HOOKBUS_CURVE_SECRET_KEY=secret)
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.strip().isdigit())
        bad_env = dict(env, HOOKBUS_CURVE_PUBLIC_KEY=self.bad[0], HOOKBUS_CURVE_SECRET_KEY=self.bad[1])
        r = subprocess.run(argv, env=bad_env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        os.chmod(secret, 0o644)
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("accessible to group or others", r.stderr)

    def test_hem_follows_a_curve_bus(self):
        """hem with listed client keys subscribes and replays through CURVE and runs a hook for an
        event emitted before it started (REPLAY) and one after (SUB)."""
        out = os.path.join(self.dir, "ran")
        h = Hem(self.dir, self.pub, ["--curve-server-public-key", self.server[0], "--curve-public-key", self.good[0],
                                     "--curve-secret-key", self.good[1]])
        self.cleanups.append(h.kill)
        self.cleanups.append(h.stop)
        before = int(self.emit_with(self.good).split()[1])
        h.start()
        script = os.path.join(h.hook_base_path, "ran.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\necho "$HOOK_SEQ" >> %s\n' % out)
        os.chmod(script, 0o755)
        h.allocate("NAME = curve\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = ran.sh\n")
        wait_for(lambda: h.last_seq() >= before, WAIT, "hem to replay through CURVE")
        after = int(self.emit_with(self.good).split()[1])
        def ran():
            try:
                with open(out) as f:
                    return str(after) in f.read().split()
            except FileNotFoundError:
                return False
        wait_for(ran, WAIT,
                 "the hook to run for seq %d:\n%s" % (after, h.log_text()[-2000:]))

    def test_bad_curve_configuration_is_refused(self):
        """--check-config refuses a secret key without an allow-list, a malformed key, a server key
        that does not match the secret, and a secret key file readable by others."""
        other = keygen()
        loose = os.path.join(self.dir, "loose.key")
        with open(loose, "w") as f:
            f.write(self.server[1])
        os.chmod(loose, 0o644)
        cases = {
            "no allow-list": (["--curve-secret-key", self.server[1]], "CURVE_ALLOWED_CLIENTS"),
            "malformed key": (["--curve-secret-key", "short", "--curve-allowed-clients", "/dev/null"], "Z85"),
            "mismatched public key": (["--curve-secret-key", self.server[1], "--curve-server-key", other[0],
                                       "--curve-allowed-clients", "/dev/null"], "not the public key"),
            "loose key file": (["--curve-secret-key", loose, "--curve-allowed-clients", "/dev/null"],
                               "accessible to group or others"),
        }
        for what, (flags, words) in cases.items():
            with self.subTest(what):
                r = subprocess.run([HM_PUBLISHER, "--check-config", "--journal", "/tmp/x.db"] + flags,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(words, r.stderr)


class ModesTest(DaemonTest):
    def hem_refuses(self, path, mode, words):
        pub = self.publisher()
        h = Hem(self.dir, pub)
        os.makedirs(os.path.dirname(h.database), exist_ok=True)
        if path == "database":
            open(h.database, "a").close()
            target = h.database
        elif path == "database directory":
            h.database = os.path.join(self.dir, "state", "hem.db")
            os.makedirs(os.path.dirname(h.database), exist_ok=True)
            target = os.path.dirname(h.database)
        else:
            target = h.hook_base_path
        os.chmod(target, mode)
        r = subprocess.run(h.argv(), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(words, r.stderr)
        self.assertIn(target, r.stderr)
        os.chmod(target, mode & ~stat.S_IWOTH)
        self.cleanups.append(h.kill)
        self.cleanups.append(h.stop)
        h.start()

    def test_world_writable_database_is_refused(self):
        """hem does not start on a hem.db that everyone may write (and starts once it is fixed)."""
        self.hem_refuses("database", 0o666, "writable by everyone")

    def test_world_writable_database_directory_is_refused(self):
        """hem does not start when the database's directory is world-writable (not sticky)."""
        self.hem_refuses("database directory", 0o777, "writable by everyone")

    def test_world_writable_hook_directory_is_refused(self):
        """hem does not start when HOOK_BASE_PATH is world-writable."""
        self.hem_refuses("hooks", 0o777, "writable by everyone")


class LimitsTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.pub = self.publisher()
        self.h = self.hem(self.pub)

    def test_control_limits_are_errors(self):
        """hem's control endpoint: a template over 1 MiB and a request of too many frames are answered
        ERROR; a frame over the 32 MiB message limit is dropped with its connection; hem answers the
        next request every time."""
        status, reason = self.h.control("ALLOCATE", "NAME = big\nTYPE = api\nX = \"%s\"\n" % ("x" * (1 << 20)))
        self.assertEqual(status, "ERROR")
        self.assertIn("larger", reason)
        status, reason = self.h.control(*(["POOL"] + ["x"] * 20))
        self.assertEqual(status, "ERROR", reason)
        s = _ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(s.close)
        s.connect(self.h.control_endpoint)
        s.send_multipart([b"", b"ALLOCATE", b"x" * (33 << 20)])
        self.assertEqual(s.poll(1000), 0, "an oversized frame was answered")
        self.assertEqual(self.h.control("POOL")[0], "OK")
        self.assertTrue(self.h.alive())

    def test_publisher_request_limits_are_errors(self):
        """hm-publisher: a request of more than 8 frames is answered ERROR; an EMIT frame over the
        libzmq guard (twice the base64 of MAX_MESSAGE_SIZE) is dropped with its connection; the
        publisher serves the next emitter."""
        rep = request(self.pub.cmd_endpoint, ["EMIT"] + ["x"] * 10)
        self.assertTrue(rep[0].startswith(b"ERROR "), rep)
        s = _ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(s.close)
        s.connect(self.pub.cmd_endpoint)
        s.send_multipart([b"", b"EMIT", b"A" * (12 << 20)])
        self.assertEqual(s.poll(1000), 0, "an oversized frame was answered")
        self.assertTrue(request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml())])[0].startswith(b"ACK "))

    def test_argument_limits_are_error_records(self):
        """A hook whose expanded arguments pass hem's 16 MiB bound, and one whose single argument
        passes the kernel's per-string limit (execve E2BIG), each get an ERROR record saying why;
        hem stays up and runs the next event's hook."""
        script = os.path.join(self.h.hook_base_path, "ok.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(script, 0o755)
        many = self.h.allocate('NAME = many\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = ok.sh\n'
                               'ARGUMENTS = "%s"\n' % " ".join(["$API"] * 6))
        one = self.h.allocate('NAME = one\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = ok.sh\nARGUMENTS = "$API"\n')
        big = api_xml("one.vm.allocate", params=("****", "v" * (3 << 20)))
        rep = request(self.pub.cmd_endpoint, ["EMIT", b64(big)], timeout_ms=30000)
        self.assertTrue(rep[0].startswith(b"ACK "), rep)
        small = int(request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml())])[0].split()[1])

        def rec(hid, seq):
            rows = self.h.db("SELECT state, stderr FROM hook_log WHERE hook_id = ? AND seq = ?", (hid, seq))
            return rows and rows[0][0] in ("SUCCESS", "ERROR") and rows[0]
        seq = int(rep[0].split()[1])
        state, why = wait_for(lambda: rec(many, seq), WAIT, "the record of the oversized arguments")
        self.assertEqual(state, "ERROR")
        self.assertIn(b"ARGUMENTS", why)
        state, why = wait_for(lambda: rec(one, seq), WAIT, "the record of the oversized argument")
        self.assertEqual(state, "ERROR")
        self.assertTrue(why, "the refusal says why")
        for hid in (many, one):
            self.assertEqual(wait_for(lambda: rec(hid, small), WAIT, "the next event's record")[0], "SUCCESS")
        self.assertTrue(self.h.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)
