"""test_signals.py -- proves the daemons behave as services: SIGHUP reopens a rotated log file and
applies DEBUG_LEVEL (both) and CONCURRENCY (hem) from the edited config file while keys that need
a restart are reported, a bad config on SIGHUP changes nothing, readiness and stop are sent to
NOTIFY_SOCKET (sd_notify), --check-config validates, and each execution logs its hook and
execution ids."""
import os
import re
import signal
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import (HEM, HM_PUBLISHER, RESOURCES, DaemonTest, Hem, Publisher, api_xml, b64,  # noqa: E402
                     request, vm_xml, wait_for)


class ConfHem(Hem):
    """hem whose DEBUG_LEVEL, CONCURRENCY and LOG come from its config file (not from flags, which
    would win over the file on reload)."""

    def __init__(self, d, pub, conf, env=None):
        super().__init__(d, pub, env=env)
        self.conf = conf

    def argv(self):
        return [HEM, "-c", self.conf, "--subscriber-endpoint", self.subscriber_endpoint,
                "--publisher-command-endpoint", self.publisher_command_endpoint,
                "--control-endpoint", self.control_endpoint, "--database", self.database,
                "--hook-base-path", self.hook_base_path, "--resources", RESOURCES]


class ConfPublisher(Publisher):
    def __init__(self, d, conf, env=None):
        super().__init__(d)
        self.conf = conf
        self.env = env

    def argv(self):
        return [HM_PUBLISHER, "serve", "-c", self.conf, "--publisher-endpoint", self.pub_endpoint,
                "--command-endpoint", self.cmd_endpoint, "--journal", self.journal]

    def start(self):
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=self.env)
        wait_for(self.ready, what="hm-publisher to answer")
        return self


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class SignalTest(DaemonTest):
    def conf_hem(self, pub, conf_text, env=None):
        conf = os.path.join(self.dir, "hem.conf")
        write(conf, conf_text)
        h = ConfHem(self.dir, pub, conf, env)
        self.cleanups.append(h.kill)
        self.cleanups.append(h.stop)
        return h.start()

    def emit(self, pub, xml):
        reply = request(pub.cmd_endpoint, ["EMIT", b64(xml)])
        self.assertTrue(reply[0].startswith(b"ACK "), reply)

    def states(self, h, hook_id):
        return [r[0] for r in h.db("SELECT state FROM hook_log WHERE hook_id = ? ORDER BY exec_id", (hook_id,))]

    def test_hem_sighup_reopens_log_and_applies_debug_level_and_concurrency(self):
        pub = self.publisher()
        log = os.path.join(self.dir, "hem.log")
        h = self.conf_hem(pub, "LOG = %s\nDEBUG_LEVEL = 2\nCONCURRENCY = 1\n" % log)
        release = os.path.join(self.dir, "release")
        script = os.path.join(h.hook_base_path, "wait.sh")
        write(script, "#!/bin/sh\nwhile [ ! -e \"$1\" ]; do sleep 0.05; done\n")
        os.chmod(script, 0o755)
        hook = h.allocate("NAME = w\nTYPE = state\nRESOURCE = VM\nON = RUNNING\nCOMMAND = wait.sh\n"
                          "ARGUMENTS = %s\n" % release)
        self.emit(pub, vm_xml(1, "ACTIVE", "RUNNING"))
        self.emit(pub, vm_xml(2, "ACTIVE", "RUNNING"))
        wait_for(lambda: self.states(h, hook) == ["RUNNING", "PENDING"], what="one run and one queued")
        self.assertNotIn("[D]", read(log))

        # Rotate the log, raise DEBUG_LEVEL and CONCURRENCY, change a restart-only key.
        os.rename(log, log + ".1")
        write(h.conf, "LOG = %s\nDEBUG_LEVEL = 3\nCONCURRENCY = 2\nOUTPUT_LIMIT = 100\nHWM_IS_NOT_A_KEY_OF_HEM = 1\n" % log)
        os.kill(h.proc.pid, signal.SIGHUP)
        wait_for(lambda: "configuration not reloaded" in read(log), what="the bad file to be reported")
        self.assertIn("HWM_IS_NOT_A_KEY_OF_HEM", read(log))
        self.assertEqual(self.states(h, hook), ["RUNNING", "PENDING"])

        write(h.conf, "LOG = %s\nDEBUG_LEVEL = 3\nCONCURRENCY = 2\nOUTPUT_LIMIT = 100\n"
                      "DEFAULT_TIMEOUT = 5\nLOG_RETENTION = 7\nREMOTE_SHELL = rsh\n" % log)
        os.kill(h.proc.pid, signal.SIGHUP)
        wait_for(lambda: self.states(h, hook) == ["RUNNING", "RUNNING"], what="the queued run to start")
        text = read(log)
        self.assertIn("SIGHUP: log reopened; concurrency 2, default timeout 5, log retention 7, output limit 100", text)
        self.assertRegex(text, r"\[W\] SIGHUP: REMOTE_SHELL changed .* next restart")
        self.assertNotIn("SIGHUP", read(log + ".1"))
        # DEBUG_LEVEL 3 is in effect: hook creation logs its subscriptions at debug level.
        h.allocate("NAME = a\nTYPE = api\nCALL = one.image.delete\nCOMMAND = /bin/true\n")
        wait_for(lambda: "[D] subscribed to 'EVENT API one.image.delete '" in read(log), what="a debug line")
        open(release, "w").close()
        wait_for(lambda: self.states(h, hook) == ["SUCCESS", "SUCCESS"], what="both runs to finish")
        # One line per execution step, each with the hook id and the execution id.
        both = read(log + ".1") + read(log)
        for exec_id in (0, 1):
            for step in (r"\(w\) execution %d queued for seq", r"\(w\) execution %d started: pid",
                         r"execution %d SUCCESS: code 0"):
                self.assertRegex(both, r"hook %d %s" % (hook, step % exec_id))

    def test_publisher_sighup_reopens_log_and_applies_debug_level(self):
        log = os.path.join(self.dir, "pub.log")
        conf = os.path.join(self.dir, "hm-publisher.conf")
        write(conf, "LOG = %s\nDEBUG_LEVEL = 2\n" % log)
        pub = ConfPublisher(self.dir, conf)
        self.cleanups.append(pub.kill)
        self.cleanups.append(pub.stop)
        pub.start()
        self.emit(pub, api_xml("one.vm.allocate"))
        self.assertNotIn("published", read(log))
        os.rename(log, log + ".1")
        write(conf, "LOG = %s\nDEBUG_LEVEL = 3\nJOURNAL_RETENTION = 5\n" % log)
        os.kill(pub.proc.pid, signal.SIGHUP)
        wait_for(lambda: "SIGHUP: log reopened, DEBUG_LEVEL 3" in read(log), what="the reload line in the new file")
        self.assertIn("JOURNAL_RETENTION changed", read(log))
        self.emit(pub, api_xml("one.vm.allocate"))
        wait_for(lambda: re.search(r"\[D\] seq 2 published", read(log)), what="a debug line after SIGHUP")
        self.assertNotIn("seq 2", read(log + ".1"))

    def notify_socket(self):
        path = os.path.join(self.dir, "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        s.settimeout(20)
        self.cleanups.append(s.close)
        return s, dict(os.environ, NOTIFY_SOCKET=path)

    def notices(self, sock, until):
        got = []
        while not any(until in g for g in got):
            got.append(sock.recv(4096).decode())
        return got

    def test_daemons_notify_ready_reloading_and_stopping(self):
        built_with = read(os.path.join(os.environ.get("HB_BUILD_DIR", "build"), "CMakeCache.txt"))
        if not re.search(r"^HB_SYSTEMD:BOOL=ON$", built_with, re.M):
            self.skipTest("built without libsystemd (HB_SYSTEMD=OFF): nothing is notified")
        sock, env = self.notify_socket()
        conf = os.path.join(self.dir, "hm-publisher.conf")
        write(conf, "DEBUG_LEVEL = 2\n")
        pub = ConfPublisher(self.dir, conf, env=env)
        self.cleanups.append(pub.kill)
        pub.start()
        self.assertIn("READY=1", self.notices(sock, "READY=1")[-1])
        os.kill(pub.proc.pid, signal.SIGHUP)
        got = self.notices(sock, "READY=1")
        self.assertIn("RELOADING=1", got[0])
        h = self.conf_hem(pub, "DEBUG_LEVEL = 2\n", env=env)
        self.assertIn("READY=1", self.notices(sock, "READY=1")[-1])
        h.stop()
        self.assertIn("STOPPING=1", self.notices(sock, "STOPPING=1")[-1])
        pub.stop()
        self.assertIn("STOPPING=1", self.notices(sock, "STOPPING=1")[-1])

    def test_check_config(self):
        good = os.path.join(self.dir, "good.conf")
        write(good, "CONCURRENCY = 4\nRESOURCES = %s\n" % RESOURCES)
        r = self.run_cmd([HEM, "--check-config", "-c", good])
        self.assertEqual((r.returncode, r.stdout), (0, "configuration OK\n"), r.stderr)
        write(good, "CONCURRENCY = 0\nRESOURCES = %s\n" % RESOURCES)
        r = self.run_cmd([HEM, "--check-config", "-c", good])
        self.assertEqual(r.returncode, 2)
        self.assertIn("CONCURRENCY", r.stderr)
        write(good, "JOURNAL_RETENTION = 10\nMETRICS_LISTEN = 127.0.0.1:9106\n")
        r = self.run_cmd([HM_PUBLISHER, "--check-config", "-c", good])
        self.assertEqual((r.returncode, r.stdout), (0, "configuration OK\n"), r.stderr)
        write(good, "JOURNAL_RETENTION = lots\n")
        r = self.run_cmd([HM_PUBLISHER, "--check-config", "-c", good])
        self.assertEqual(r.returncode, 2)
        self.assertIn("JOURNAL_RETENTION", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
