"""test_extensions.py -- proves hem's hook extensions against a real hm-publisher and real hooks:
REMOTE hooks through a real sshd started by the test (argv checked element by element on the
remote side), FILTER, wildcard triggers, automatic retries (also across a SIGKILL of hem) and
per-hook CONCURRENCY with the delay and skip policies.

Every test starts its own hm-publisher and hem in a temporary directory (test_hem.HemCase); the
remote tests also start their own sshd on a free loopback port and stop it afterwards."""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, wait_for  # noqa: E402
from test_hem import FINAL, HemCase, overlap_max  # noqa: E402

HOOKCTL = os.path.join(BUILD, "cli", "hookctl")
SSHD = "/usr/sbin/sshd"

# The remote side: writes its argv element by element and its stdin as JSON, then exits 1 when
# the fail flag exists, else 0.
REMOTE_RECORDER = r'''#!/usr/bin/python3
import json, os, sys
data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
with open(%(out)r, "a") as f:
    f.write(json.dumps({"argv0": sys.argv[0], "argv": sys.argv[1:], "stdin": data}) + "\n")
sys.exit(1 if os.path.exists(%(fail)r) else 0)
'''

# A local hook that records start and end, waits for a release file (when given) and exits.
WAITER = r'''#!/usr/bin/python3
import json, os, sys, time
def put(rec):
    fd = os.open(%(out)r, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, (json.dumps(rec) + "\n").encode())
    os.close(fd)
put({"phase": "start", "argv": sys.argv[1:], "t": time.time()})
while %(release)r and not os.path.exists(%(release)r):
    time.sleep(0.02)
time.sleep(%(sleep)r)
put({"phase": "end", "argv": sys.argv[1:], "t": time.time()})
sys.exit(%(code)d)
'''


def host_message(host_id, state, remote_host, doc=None):
    """A HOST state HOOK_MESSAGE in OpenNebula's element order."""
    doc = doc if doc is not None else "<HOST><ID>%s</ID><NAME>%s</NAME></HOST>" % (host_id, remote_host)
    rh = "<REMOTE_HOST>%s</REMOTE_HOST>" % remote_host if remote_host is not None else "<REMOTE_HOST/>"
    return ("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>HOST</HOOK_OBJECT><STATE>%s</STATE>%s"
            "<RESOURCE_ID>%s</RESOURCE_ID>%s</HOOK_MESSAGE>" % (state, rh, host_id, doc))


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Sshd:
    """A real OpenSSH server in the foreground on a free loopback port, with a generated host key
    and one authorized generated client key for root."""

    def __init__(self, d):
        self.dir = os.path.join(d, "sshd")
        os.makedirs(self.dir, mode=0o700)
        self.host_key = os.path.join(self.dir, "host_key")
        self.client_key = os.path.join(self.dir, "client_key")
        for key in (self.host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True,
                           capture_output=True, timeout=30)
        self.authorized = os.path.join(self.dir, "authorized_keys")
        shutil.copy(self.client_key + ".pub", self.authorized)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.config = os.path.join(self.dir, "sshd_config")
        with open(self.config, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nAuthorizedKeysFile %s\nStrictModes no\n"
                    "UsePAM no\nPidFile %s\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nLogLevel ERROR\n"
                    % (self.port, self.host_key, self.authorized, os.path.join(self.dir, "sshd.pid")))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.log = os.path.join(self.dir, "sshd.log")
        self.proc = None

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.port), what="sshd to listen")
        if self.proc.poll() is not None:
            with open(self.log) as f:
                raise AssertionError("sshd exited: " + f.read())

    def remote_shell(self):
        return ("ssh -p %d -i %s -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "-o LogLevel=ERROR" % (self.port, self.client_key))

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ExtCase(HemCase):
    def waiter(self, path, release=None, sleep=0, code=0):
        out = os.path.join(self.outdir, os.path.basename(path) + ".jsonl")
        self.script(path, WAITER % {"out": out, "release": release, "sleep": sleep, "code": code})
        return out

    def finished(self, hook_id):
        return [r for r in self.records(hook_id) if r["state"] in FINAL + ("SKIPPED",)]

    def hookctl(self, *args):
        r = subprocess.run([HOOKCTL] + list(args) + ["--endpoint", self.h.control_endpoint], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


# --- REMOTE -------------------------------------------------------------------------------------

@unittest.skipUnless(os.path.exists(SSHD) and shutil.which("ssh") and shutil.which("ssh-keygen") and os.geteuid() == 0,
                     "needs root, openssh-server and openssh-client (scripts/setup installs them)")
class RemoteTest(ExtCase):
    def setUp(self):
        super().setUp()
        self.sshd = Sshd(self.dir)
        self.cleanups.append(self.sshd.stop)
        self.sshd.start()
        self.remote_base = os.path.join(self.dir, "remote-hooks")
        self.remote_out = os.path.join(self.outdir, "remote.jsonl")
        self.fail_flag = os.path.join(self.dir, "remote-fail")
        self.script(os.path.join(self.remote_base, "bin", "remote.py"),
                    REMOTE_RECORDER % {"out": self.remote_out, "fail": self.fail_flag})
        self.start_hem(["--remote-shell", self.sshd.remote_shell(), "--remote-hook-base-path", self.remote_base])

    def remote_runs(self):
        try:
            with open(self.remote_out) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def test_remote_argv_element_by_element(self):
        """A REMOTE host hook runs on the event's REMOTE_HOST through sshd: the remote program is under
        REMOTE_HOOK_BASE_PATH and gets exactly the hook's argv, element by element, whatever shell
        syntax the elements hold ($(...), backticks, quotes, ;, newlines), and $TEMPLATE intact."""
        pwned = os.path.join(self.dir, "PWNED")
        hostile = ["$(touch %s)" % pwned, "`touch %s`" % pwned, "it's; touch %s" % pwned, "a\nb", "x|y&z", "", "*"]
        args = " ".join('"%s"' % a for a in hostile)
        hid = self.h.allocate('NAME = remote\nTYPE = state\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = yes\n'
                              'COMMAND = bin/remote.py\nARGUMENTS = "$TEMPLATE %s"\n' % args.replace('"', '\\"'))
        doc = "<HOST><ID>7</ID><NAME>127.0.0.1</NAME><NOTE>'$(x)' `y` \"z\"</NOTE></HOST>"
        self.emit(host_message(7, "ERROR", "127.0.0.1", doc=doc))
        recs = self.wait_records(hid, 1)
        self.assertEqual(recs[0]["state"], "SUCCESS", recs[0]["stderr"])
        self.assertEqual(recs[0]["remote_host"], "127.0.0.1")
        runs = self.remote_runs()
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["argv0"], os.path.join(self.remote_base, "bin", "remote.py"))
        argv = runs[0]["argv"]
        self.assertEqual(len(argv), 1 + len(hostile), argv)
        sent = ET.fromstring(base64.b64decode(argv[0], validate=True).decode())
        self.assertEqual((sent.tag, sent.findtext("ID"), sent.findtext("NOTE")), ("HOST", "7", "'$(x)' `y` \"z\""))
        for i, want in enumerate(hostile):
            self.assertEqual(argv[1 + i], want, "argument %d" % (i + 1))
        self.assertFalse(os.path.exists(pwned), "the remote shell interpreted an argument")
        rec = self.record_xml(hid, 0)
        self.assertEqual(rec.findtext("REMOTE_HOST"), "127.0.0.1")
        self.assertIn("REMOTE HOST", self.hookctl("show", str(hid), "-e", "0"))

    def test_remote_stdin(self):
        """With ARGUMENTS_STDIN = yes a remote hook reads its arguments on stdin through ssh and gets
        no argv elements."""
        hid = self.h.allocate('NAME = remote-stdin\nTYPE = state\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = yes\n'
                              'COMMAND = bin/remote.py\nARGUMENTS = "$TEMPLATE one two"\nARGUMENTS_STDIN = yes\n')
        self.emit(host_message(3, "ERROR", "127.0.0.1"))
        recs = self.wait_records(hid, 1)
        self.assertEqual(recs[0]["state"], "SUCCESS", recs[0]["stderr"])
        runs = self.remote_runs()
        self.assertEqual(runs[0]["argv"], [])
        words = runs[0]["stdin"].split(" ")
        self.assertEqual(words[1:], ["one", "two"])
        self.assertIn("<HOST><ID>3</ID>", base64.b64decode(words[0]).decode())

    def test_no_remote_host_is_an_error_record(self):
        """A REMOTE hook whose event has no REMOTE_HOST gets an ERROR record saying so; nothing runs."""
        hid = self.h.allocate('NAME = remote-vm\nTYPE = state\nRESOURCE = VM\nSTATE = ACTIVE\nLCM_STATE = RUNNING\n'
                              'REMOTE = yes\nCOMMAND = bin/remote.py\n')
        self.emit_vm(4, "ACTIVE", "RUNNING")
        recs = self.wait_records(hid, 1)
        self.assertEqual(recs[0]["state"], "ERROR")
        self.assertIn(b"no REMOTE_HOST", recs[0]["stderr"])
        self.assertIsNone(recs[0]["remote_host"])
        # A REMOTE_HOST that ssh would take for an option is refused the same way.
        pwned = os.path.join(self.dir, "PWNED")
        host = self.h.allocate('NAME = remote-host\nTYPE = state\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = yes\n'
                               'COMMAND = bin/remote.py\n')
        self.emit(host_message(5, "ERROR", "-oProxyCommand=touch%20" + pwned))
        recs = self.wait_records(host, 1)
        self.assertEqual(recs[0]["state"], "ERROR")
        self.assertIn(b"starts with '-'", recs[0]["stderr"])
        self.assertFalse(os.path.exists(pwned))
        self.assertEqual(self.remote_runs(), [])

    def test_retry_of_remote_execution_reuses_host(self):
        """hookctl retry of a failed remote execution runs it again on the recorded REMOTE_HOST."""
        open(self.fail_flag, "w").close()
        hid = self.h.allocate('NAME = remote-retry\nTYPE = state\nRESOURCE = HOST\nSTATE = ERROR\nREMOTE = yes\n'
                              'COMMAND = bin/remote.py\nARGUMENTS = "first"\n')
        self.emit(host_message(9, "ERROR", "127.0.0.1"))
        recs = self.wait_records(hid, 1)
        self.assertEqual((recs[0]["state"], recs[0]["code"]), ("ERROR", 1))
        os.unlink(self.fail_flag)
        self.assertIn("EXECUTION ID: 1", self.hookctl("retry", str(hid), "0"))
        recs = self.wait_records(hid, 2)
        self.assertEqual((recs[1]["state"], recs[1]["remote_host"], recs[1]["retry_of"]), ("SUCCESS", "127.0.0.1", 0))
        self.assertEqual([r["argv"] for r in self.remote_runs()], [["first"], ["first"]])


# --- FILTER -------------------------------------------------------------------------------------

class FilterTest(ExtCase):
    def test_filter_true_and_false(self):
        """A hook runs only for events whose FILTER is true; events filtered out leave no record."""
        self.start_hem()
        out = self.recorder("f.py")
        hid = self.api_hook("filtered", "one.vm.allocate", "f.py",
                            'ARGUMENTS = "$API"\nFILTER = "/HOOK_MESSAGE/CALL_INFO/RESULT = 1"\n')
        self.emit_api("one.vm.allocate", 0)
        self.emit_api("one.vm.allocate", 1)
        last = self.emit_api("one.vm.allocate", 0)
        self.wait_seq(last)
        self.wait_idle()
        recs = self.records(hid)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["event_key"], "EVENT API one.vm.allocate 1")
        self.assertEqual(len(self.runs(out)), 1)
        self.assertIn("FILTER=\"/HOOK_MESSAGE/CALL_INFO/RESULT = 1\"", self.hookctl("show", str(hid)))

    def test_invalid_filter_refused_at_create_and_update(self):
        """An invalid FILTER is refused at create and at update with libxml2's message; the hook
        keeps its old filter after a refused update."""
        self.start_hem()
        self.assertRefused(["ALLOCATE", 'NAME = bad\nTYPE = api\nCALL = c\nCOMMAND = x\nFILTER = "//A["\n'],
                           "FILTER", "Invalid expression")
        hid = self.api_hook("good", "c", "x", 'FILTER = "1 = 1"\n')
        self.assertRefused(["UPDATE", hid, 'FILTER = "1 +"\n', "1"], "FILTER", "Invalid expression")
        self.assertRefused(["UPDATE", hid, 'FILTER = "nosuch(1)"\n', "1"], "FILTER", "Unregistered function")
        self.assertEqual(self.hook_xml(hid).findtext("TEMPLATE/FILTER"), "1 = 1")


# --- wildcards ----------------------------------------------------------------------------------

class WildcardTest(ExtCase):
    def test_call_wildcard(self):
        """CALL = one.vm.* runs for one.vm.allocate and one.vm.update but not one.image.allocate; an
        exact CALL = one.vm.update next to it still does not run for one.vm.updateconf."""
        self.start_hem()
        self.recorder("w.py")
        wild = self.api_hook("wild", "one.vm.*", "w.py")
        exact = self.api_hook("exact", "one.vm.update", "w.py")
        for call in ("one.vm.allocate", "one.image.allocate", "one.vm.updateconf", "one.vm.update"):
            last = self.emit_api(call)
        self.wait_seq(last)
        self.wait_idle()
        self.assertEqual([r["event_key"] for r in self.records(wild)],
                         ["EVENT API one.vm.allocate 1", "EVENT API one.vm.updateconf 1", "EVENT API one.vm.update 1"])
        self.assertEqual([r["event_key"] for r in self.records(exact)], ["EVENT API one.vm.update 1"])
        self.assertEqual(self.hook_xml(wild).findtext("TEMPLATE/CALL"), "one.vm.*")
        # Subscriptions follow updates at once: the wildcard made exact no longer covers allocate,
        # and a catch-all CALL = * then covers every call.
        self.h.call("UPDATE", wild, "CALL = one.vm.update\n", "1")
        self.h.call("UPDATE", exact, "CALL = *\n", "1")
        for call in ("one.vm.allocate", "one.image.allocate", "one.vm.update"):
            last = self.emit_api(call)
        self.wait_seq(last)
        self.wait_idle()
        self.assertEqual([r["event_key"] for r in self.records(wild)][3:], ["EVENT API one.vm.update 1"])
        self.assertEqual([r["event_key"] for r in self.records(exact)][1:],
                         ["EVENT API one.vm.allocate 1", "EVENT API one.image.allocate 1", "EVENT API one.vm.update 1"])

    def test_hooks_found_by_nested_and_shared_prefixes(self):
        """hem finds the hooks an event triggers by their subscription prefixes: hooks sharing one
        prefix, prefixes within prefixes (CALL = *, one.vm.*, one.vm.alloc*, the exact call) and
        others that only sort near them are told apart; each matching hook gets one record, queued
        in hook id order; an UPDATE or DELETE changes what the next event finds at once."""
        self.start_hem()
        calls = ["one.vm.allocate", "*", "one.vm.allocate", "one.vm.*", "one.vm.allocatex", "one.vm.alloc*",
                 "one.image.allocate", "one.vm.allocat"]
        ids = [self.api_hook("h%d" % i, c, "/bin/true") for i, c in enumerate(calls)]
        self.state_hook("st", "/bin/true", "PENDING", "LCM_INIT")
        seq = self.emit_api("one.vm.allocate")
        self.wait_seq(seq)
        found = lambda s: [r["hook_id"] for r in self.rows("SELECT hook_id FROM hook_log WHERE seq = ? ORDER BY qorder",
                                                          (s,))]
        self.assertEqual(found(seq), [ids[0], ids[1], ids[2], ids[3], ids[5]])
        self.h.call("UPDATE", ids[2], "CALL = one.image.allocate\n", "1")
        self.assertEqual(self.h.call("DELETE", ids[3]), str(ids[3]))
        self.h.call("UPDATE", ids[4], "CALL = one.vm.allocate\n", "1")
        seq = self.emit_api("one.vm.allocate")
        self.wait_seq(seq)
        self.assertEqual(found(seq), [ids[0], ids[1], ids[4], ids[5]])
        seq = self.emit_api("one.image.allocate")
        self.wait_seq(seq)
        self.assertEqual(found(seq), [ids[1], ids[2], ids[6]])
        self.wait_idle()

    def test_state_and_lcm_wildcards(self):
        """STATE = * (with LCM_STATE = *) runs for every VM state change and no HOST one; LCM_STATE = *
        with STATE = ACTIVE runs for every ACTIVE LCM state only."""
        self.start_hem()
        self.recorder("s.py")
        every = self.state_hook("every", "s.py", "*", "*")
        active = self.state_hook("active", "s.py", "ACTIVE", "*")
        self.emit_vm(1, "PENDING", "LCM_INIT")
        self.emit_vm(1, "ACTIVE", "BOOT")
        self.emit(host_message(2, "ERROR", "h2"))
        last = self.emit_vm(1, "ACTIVE", "RUNNING")
        self.wait_seq(last)
        self.wait_idle()
        self.assertEqual([r["event_key"] for r in self.records(every)],
                         ["EVENT STATE VM/PENDING/LCM_INIT/1 ", "EVENT STATE VM/ACTIVE/BOOT/1 ",
                          "EVENT STATE VM/ACTIVE/RUNNING/1 "])
        self.assertEqual([r["event_key"] for r in self.records(active)],
                         ["EVENT STATE VM/ACTIVE/BOOT/1 ", "EVENT STATE VM/ACTIVE/RUNNING/1 "])
        self.assertEqual(self.rows("SELECT prefix FROM hook ORDER BY id"),
                         [{"prefix": "EVENT STATE VM/"}, {"prefix": "EVENT STATE VM/ACTIVE/"}])


# --- retries ------------------------------------------------------------------------------------

class RetryTest(ExtCase):
    def test_failing_hook_retried_twice(self):
        """A failing hook with RETRIES = 2 and RETRY_DELAY = 1 gets 3 records: attempts 1, 2 and 3, the
        retries linked to the first (RETRY_OF 0, RETRY yes), each started no earlier than its delay
        (1 s, then 2 s) after the previous attempt ended."""
        self.start_hem()
        out = self.recorder("fail.py", code=3)
        hid = self.api_hook("retried", "one.vm.allocate", "fail.py", "RETRIES = 2\nRETRY_DELAY = 1\nARGUMENTS = a\n")
        self.emit_api("one.vm.allocate")
        recs = self.wait_records(hid, 3)
        self.assertEqual([(r["state"], r["code"], r["attempt"], r["retry_of"]) for r in recs],
                         [("ERROR", 3, 1, None), ("ERROR", 3, 2, 0), ("ERROR", 3, 3, 0)])
        self.assertGreaterEqual(recs[1]["start_ms"], recs[0]["end_ms"] + 1000)
        self.assertGreaterEqual(recs[2]["start_ms"], recs[1]["end_ms"] + 2000)
        self.assertEqual([r["argv"] for r in self.runs(out)], [["a"]] * 3)
        rec = self.record_xml(hid, 2)
        self.assertEqual((rec.findtext("RETRY"), rec.findtext("RETRY_OF"), rec.findtext("ATTEMPT")), ("yes", "0", "3"))
        shown = self.hookctl("show", str(hid), "-e", "2")
        self.assertIn("ATTEMPT", shown)
        self.assertIn("(retry of 0) (attempt 3)", shown)
        self.wait_idle()
        self.assertEqual(len(self.records(hid)), 3, "no fourth attempt")

    def test_retry_on_timeout_does_not_retry_a_failure(self):
        """RETRY_ON = timeout: a plain failure is not retried, a timeout is."""
        self.start_hem()
        self.recorder("fail.py", code=1)
        self.recorder("slow.py", sleep=30)
        plain = self.api_hook("plain", "one.vm.allocate", "fail.py", "RETRIES = 1\nRETRY_DELAY = 0\nRETRY_ON = timeout\n")
        slow = self.api_hook("slow", "one.vm.allocate", "slow.py",
                             "RETRIES = 1\nRETRY_DELAY = 0\nRETRY_ON = timeout\nTIMEOUT = 1\n")
        self.emit_api("one.vm.allocate")
        recs = self.wait_records(plain, 1)
        # A retry is queued in the same transaction that ends the record.
        self.assertEqual([(r["state"], r["attempt"]) for r in self.records(plain)], [("ERROR", 1)])
        recs = self.wait_records(slow, 2, timeout=60)
        self.assertEqual([(r["timed_out"], r["attempt"], r["retry_of"]) for r in recs], [(1, 1, None), (1, 2, 0)])
        self.assertEqual(len(self.records(plain)), 1)

    def test_retries_with_no_records_kept(self):
        """RETRIES with LOG_RETENTION = 0: every attempt runs although each record is pruned as soon
        as it ends."""
        self.start_hem()
        out = self.recorder("fail.py", code=1)
        hid = self.api_hook("unlogged", "one.vm.allocate", "fail.py",
                            "RETRIES = 2\nRETRY_DELAY = 0\nLOG_RETENTION = 0\n")
        self.emit_api("one.vm.allocate")
        self.until(lambda: len(self.runs(out, "end")) == 3, "three attempts")
        self.wait_idle()
        self.assertEqual(self.records(hid), [])
        self.assertEqual(len(self.runs(out)), 3)

    def test_pending_retry_survives_sigkill(self):
        """A retry waiting for its time is a stored record, parked out of the dispatcher's walk until
        its time: hem killed with SIGKILL and started again still runs it (attempt 2, linked to the
        first)."""
        self.start_hem()
        out = self.recorder("fail.py", code=1)
        hid = self.api_hook("durable", "one.vm.allocate", "fail.py", "RETRIES = 1\nRETRY_DELAY = 3\n")
        self.emit_api("one.vm.allocate")
        self.until(lambda: [r for r in self.records(hid) if r["state"] == "PENDING" and r["run_after_ms"]],
                   "a delayed retry to be stored")
        raw = self.h.info_xml(hid, 1)
        self.xsd(raw, "hook_execution_record.xsd")
        self.assertIsNotNone(ET.fromstring(raw).findtext("RUN_AFTER"))
        self.assertEqual(self.records(hid)[1]["parked"], 2)
        self.h.kill()
        self.assertEqual(len(self.runs(out)), 1)
        self.start_hem()
        recs = self.wait_records(hid, 2)
        self.assertEqual([(r["state"], r["attempt"], r["retry_of"]) for r in recs], [("ERROR", 1, None), ("ERROR", 2, 0)])
        self.assertEqual(len(self.runs(out)), 2)


# --- per-hook concurrency -----------------------------------------------------------------------

class ConcurrencyTest(ExtCase):
    def test_delay_runs_one_at_a_time_without_blocking_others(self):
        """CONCURRENCY = 1 (delay): the hook's executions never overlap (recorded start/end times),
        and another hook's executions queued behind them run meanwhile."""
        self.start_hem()
        release = os.path.join(self.dir, "release")
        self.waiter("one.py", release=release)
        other = self.recorder("other.py")
        one = self.api_hook("one", "one.vm.allocate", "one.py", "CONCURRENCY = 1\n")
        free = self.api_hook("free", "one.vm.allocate", "other.py")
        for _ in range(3):
            last = self.emit_api("one.vm.allocate")
        self.wait_seq(last)
        # The limited hook's first run blocks until released; the other hook's three run anyway.
        self.wait_records(free, 3)
        self.assertEqual([r["state"] for r in self.records(one)], ["RUNNING", "PENDING", "PENDING"])
        open(release, "w").close()
        recs = self.wait_records(one, 3)
        self.assertEqual([r["state"] for r in recs], ["SUCCESS"] * 3)
        self.assertEqual(overlap_max([(r["start_ms"], r["end_ms"]) for r in recs]), 1)
        self.assertEqual(len(self.runs(other)), 3)

    def test_backlog_behind_the_limit_is_parked_and_runs_in_order(self):
        """A backlog behind CONCURRENCY = 1 is parked out of the dispatcher's walk (each dispatch
        would otherwise pass over all of it), yet to every reader it is PENDING; its executions
        run one at a time in the order queued, while another hook's run. A restart with records
        parked runs them all; a CONCURRENCY raised by UPDATE applies to records already parked."""
        self.start_hem()
        release = os.path.join(self.dir, "release")
        self.waiter("one.py", release=release)
        other = self.recorder("other.py")
        template = "CALL = one.vm.allocate\nCOMMAND = one.py\nCONCURRENCY = %d\n"
        one = self.h.allocate("NAME = one\nTYPE = api\n" + template % 1)
        free = self.api_hook("free", "one.vm.allocate", "other.py")
        self.backlog_api("one.vm.allocate", 6)
        self.wait_records(free, 6)
        parked = lambda: self.rows("SELECT exec_id FROM hook_log WHERE hook_id = ? AND parked = 1 ORDER BY exec_id",
                                   (one,))
        self.until(lambda: len(parked()) == 5, "the five executions behind the running one to be parked")
        self.assertEqual([r["exec_id"] for r in parked()], [1, 2, 3, 4, 5])
        self.assertEqual([r["state"] for r in self.records(one)], ["RUNNING"] + ["PENDING"] * 5)
        self.assertEqual(self.h.db("SELECT count(*) FROM hook_log WHERE state = 'PENDING'"), [(5,)])
        self.assertEqual(self.hookctl("show", str(one)).count("PENDING"), 5)
        # Killed with records parked: the next hem starts them all the same.
        self.h.kill()
        self.h.start()
        self.until(lambda: [r["state"] for r in self.records(one)][:2] == ["INTERRUPTED", "RUNNING"],
                   "the first parked execution to run after the restart")
        self.until(lambda: len(parked()) == 4, "the four behind it to be parked again")
        # A raised limit reaches the parked records at once.
        self.h.call("UPDATE", one, template % 3, "0")
        self.until(lambda: [r["state"] for r in self.records(one)].count("RUNNING") == 3,
                   "three executions running under CONCURRENCY = 3")
        open(release, "w").close()
        recs = self.wait_records(one, 6)
        self.assertEqual([r["state"] for r in recs], ["INTERRUPTED"] + ["SUCCESS"] * 5)
        self.assertEqual([r["parked"] for r in recs], [0] * 6)
        done = recs[1:]
        self.assertLessEqual(overlap_max([(r["start_ms"], r["end_ms"]) for r in done]), 3)
        starts = [r["start_ms"] for r in done]
        self.assertEqual(starts, sorted(starts))
        self.assertEqual(len(self.runs(other)), 6)

    def test_limits_retries_update_and_restart_together(self):
        """Four hooks on one event under hem's CONCURRENCY = 3: one limited to 1, one to 2 (lowered
        to 1 by UPDATE half-way), one without a limit, and one that always fails with RETRIES = 2
        (its retries parked until their time); hem stopped and started again in between. Every
        event gets exactly one first record per hook, every failure its two retries, nothing stays
        queued or parked, the limited hook's executions start in the order queued, and the hooks'
        own log of their starts and ends never shows a limit exceeded."""
        self.start_hem(["--concurrency", "3", "--log-retention", "1000"])
        log = os.path.join(self.outdir, "runs.log")
        for name, code in (("a", 0), ("b", 0), ("c", 1), ("d", 0)):
            self.script("%s.sh" % name, "#!/bin/sh\necho \"S %s $$\" >> %s\nsleep 0.02\necho \"E %s $$\" >> %s\n"
                        "exit %d\n" % (name, log, name, log, code))
        hooks = {
            "a": self.api_hook("a", "one.vm.allocate", "a.sh", "CONCURRENCY = 1\n"),
            "b": self.api_hook("b", "one.vm.allocate", "b.sh", "CONCURRENCY = 2\n"),
            "c": self.api_hook("c", "one.vm.allocate", "c.sh", "RETRIES = 2\nRETRY_DELAY = 1\n"),
            "d": self.api_hook("d", "one.vm.allocate", "d.sh"),
        }
        n = 60
        for _ in range(n // 3):
            self.emit_api("one.vm.allocate")
        self.h.call("UPDATE", hooks["b"], "CONCURRENCY = 1\n", "1")
        for _ in range(n // 3):
            self.emit_api("one.vm.allocate")
        self.h.stop()
        for _ in range(n - 2 * (n // 3)):
            self.emit_api("one.vm.allocate")
        self.h.start()
        self.wait_records(hooks["c"], 3 * n, timeout=120)
        self.wait_idle()
        for name in "abd":
            recs = self.records(hooks[name])
            self.assertEqual([(r["exec_id"], r["state"], r["retry_of"]) for r in recs],
                             [(i, "SUCCESS", None) for i in range(n)], name)
        recs = self.records(hooks["c"])
        self.assertEqual(sorted((r["attempt"], r["state"]) for r in recs),
                         sorted([(a, "ERROR") for a in (1, 2, 3)] * n))
        firsts = {r["exec_id"] for r in recs if r["retry_of"] is None}
        self.assertEqual(sorted(r["retry_of"] for r in recs if r["retry_of"] is not None), sorted(list(firsts) * 2))
        self.assertEqual(self.rows("SELECT count(*) AS n FROM hook_log WHERE parked <> 0")[0]["n"], 0)
        starts = [r["start_ms"] for r in self.records(hooks["a"])]
        self.assertEqual(starts, sorted(starts), "hook a's executions started out of their order")
        running, most, total, most_total, seen = {}, {}, 0, 0, {}
        with open(log) as f:
            for line in f:
                phase, name, _ = line.split()
                step = 1 if phase == "S" else -1
                running[name] = running.get(name, 0) + step
                total += step
                most[name] = max(most.get(name, 0), running[name])
                most_total = max(most_total, total)
                seen[name] = seen.get(name, 0) + (phase == "S")
        self.assertEqual(seen, {"a": n, "b": n, "c": 3 * n, "d": n})
        self.assertEqual((running, total), ({"a": 0, "b": 0, "c": 0, "d": 0}, 0), "a start without its end")
        self.assertEqual(most["a"], 1)
        self.assertLessEqual(most["b"], 2)
        self.assertLessEqual(most_total, 3)

    def test_skip_records_skipped(self):
        """CONCURRENCY = 1 with CONCURRENCY_POLICY = skip: an event that finds the hook running is
        recorded as SKIPPED (never run), shown so by hookctl."""
        self.start_hem()
        release = os.path.join(self.dir, "release")
        out = self.waiter("busy.py", release=release)
        hid = self.api_hook("busy", "one.vm.allocate", "busy.py", "CONCURRENCY = 1\nCONCURRENCY_POLICY = skip\n")
        self.emit_api("one.vm.allocate")
        self.wait_runs(out, 1)
        self.emit_api("one.vm.allocate")
        recs = self.until(lambda: len(self.records(hid)) == 2 and self.records(hid), "the second record")
        self.assertEqual(recs[1]["state"], "SKIPPED")
        self.assertIn(b"CONCURRENCY", recs[1]["stderr"])
        open(release, "w").close()
        self.wait_records(hid, 1)
        self.wait_idle()
        self.assertEqual(len(self.runs(out)), 1)
        self.assertEqual(self.record_xml(hid, 1).findtext("STATE"), "SKIPPED")
        self.assertIn("SKIPPED", self.hookctl("show", str(hid)))
        self.assertIn("SKIPPED", self.hookctl("show", str(hid), "-e", "1"))


# --- migration ----------------------------------------------------------------------------------

class MigrationTest(ExtCase):
    def test_version_1_database_migrates_forward(self):
        """A hem.db of schema version 1 (before retries and SKIPPED) is migrated at start: its hooks
        and records are kept, records read as attempt 1, and the new columns and state work."""
        import sqlite3
        from harness import SOURCE
        db = os.path.join(self.dir, "hem.db")
        con = sqlite3.connect(db)
        with open(os.path.join(SOURCE, "db", "hem_001_init.sql")) as f:
            con.executescript(f.read())
        con.executescript(
            "INSERT INTO hook (id, name, type, prefix, template, created, updated, next_exec) VALUES "
            "(0, 'old', 'api', 'EVENT API one.vm.allocate ', 'COMMAND=old.py\nCALL=one.vm.allocate\n"
            "CONCURRENCY=1\nCONCURRENCY_POLICY=skip\n', 1, 1, 1);"
            "INSERT INTO hook_log (hook_id, exec_id, qorder, state, seq, event_key, command, arguments, argv, "
            "queued_ms, start_ms, end_ms, code, stdout, stderr) VALUES (0, 0, 0, 'SUCCESS', NULL, NULL, 'old.py', "
            "'a', X'6100', 1000, 1000, 2000, 0, X'', X'');"
            "UPDATE meta SET value = 1 WHERE key IN ('next_hook_id', 'next_qorder');"
            "PRAGMA user_version = 1;")
        con.close()
        self.start_hem()
        # Migrated through every later version too (3: blocking hooks; 4: the state CHECK as comparisons,
        # which still refuses a state that is none of them; 5: parked records, none of them parked).
        self.assertEqual(self.h.db("PRAGMA user_version"), [(5,)])
        with self.assertRaisesRegex(sqlite3.IntegrityError, "CHECK constraint failed"):
            with sqlite3.connect(db) as con:
                con.execute("UPDATE hook_exec SET state = 'DONE' WHERE hook_id = 0")
        self.assertEqual(self.h.db("SELECT parked FROM hook_log"), [(0,)])
        rec = self.record_xml(0, 0)
        self.assertEqual((rec.findtext("STATE"), rec.findtext("ATTEMPT"), rec.findtext("ARGUMENTS")),
                         ("SUCCESS", "1", "a"))
        self.assertEqual((rec.findtext("BLOCKING"), rec.findtext("VERDICT")), (None, None))
        self.assertEqual(self.hook_xml(0).findtext("TEMPLATE/CONCURRENCY_POLICY"), "skip")
        release = os.path.join(self.dir, "release")
        out = self.waiter("old.py", release=release)
        self.emit_api("one.vm.allocate")
        self.wait_runs(out, 1)
        self.emit_api("one.vm.allocate")
        self.until(lambda: [r for r in self.records(0) if r["state"] == "SKIPPED"], "a SKIPPED record")
        open(release, "w").close()
        self.wait_idle()


if __name__ == "__main__":
    unittest.main(verbosity=2)
