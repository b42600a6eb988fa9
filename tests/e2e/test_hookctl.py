"""test_hookctl.py -- proves hookctl against a real hem and hm-publisher: every verb, every output
format parsed back (JSON with the json module, XML with xmllint against schema/), the exit statuses
of refused (1), usage (2) and unreachable (3) errors with their one-line messages, --help of every
verb, and the walkthrough of OpenNebula's hook documentation end to end.

Every test starts its own hm-publisher and hem in a temporary directory (harness.Hem); hooks are
real executables written into DIR/hooks."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, HM_PUBLISHER, SOURCE, DaemonTest, free_port, wait_for  # noqa: E402

HOOKCTL = os.path.join(BUILD, "cli", "hookctl")
SCHEMA_DIR = os.path.join(SOURCE, "schema")
FINAL = ("SUCCESS", "ERROR", "INTERRUPTED")
WAIT = 30.0
VERBS = ("create", "list", "show", "update", "rename", "delete", "lock", "unlock", "retry", "log")

# The hook of OpenNebula's documentation ("Hooks: state hooks"), on the state PENDING of a VM.
PENDING_HOOK = """# the example of OpenNebula's hook documentation
NAME      = hook-vm
TYPE      = state
COMMAND   = vm-pending.rb
ARGUMENTS = "$TEMPLATE pending"
ON        = CUSTOM
RESOURCE  = VM
STATE     = PENDING
LCM_STATE = LCM_INIT
"""

API_HOOK = """NAME = on-allocate
TYPE = api
COMMAND = ok.sh
ARGUMENTS = "$API"
CALL = one.vm.allocate
LABELS = [ OWNER = "ops team", TIER = "1" ]
"""

HOST_HOOK = """NAME = host-error
TYPE = state
COMMAND = ok.sh
ON = CUSTOM
RESOURCE = HOST
STATE = ERROR
"""


def env_without_endpoint(**extra):
    """The environment without HOOKBUS_ENDPOINT, in UTC unless extra says otherwise."""
    env = {k: v for k, v in os.environ.items() if k != "HOOKBUS_ENDPOINT"}
    env["TZ"] = "UTC"
    env.update(extra)
    return env


class HookctlCase(DaemonTest):
    """Runs hookctl against this test's hem; checks exit status and the one-line error contract."""

    start_daemons = True

    def setUp(self):
        super().setUp()
        self.hooks = os.path.join(self.dir, "hooks")
        if self.start_daemons:
            self.pub = self.publisher()
            self.hemd = self.hem(self.pub)
            self.endpoint = self.hemd.control_endpoint
        else:
            self.endpoint = "ipc://%s/run/none.sock" % self.dir

    def ctl(self, *args, stdin=None, code=0, env=None, endpoint=True, timeout=60):
        """Runs hookctl ARGS --endpoint E (global options go after the verb too) and checks its
        exit status: 0 with nothing on stderr, otherwise exactly one 'hookctl: ' line on stderr."""
        argv = [HOOKCTL] + list(args) + (["--endpoint", self.endpoint] if endpoint else [])
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, errors="replace", timeout=timeout,
                           env=env if env is not None else env_without_endpoint())
        what = "%s -> %d\nstdout: %s\nstderr: %s" % (argv, r.returncode, r.stdout, r.stderr)
        if code is not None:
            self.assertEqual(r.returncode, code, what)
        if r.returncode == 0:
            self.assertEqual(r.stderr, "", what)
        else:
            self.assertRegex(r.stderr, r"\Ahookctl: [^\n]+\n\Z", what)
        return r

    def lines(self, *args, **kw):
        return self.ctl(*args, **kw).stdout.splitlines()

    def json_of(self, *args):
        return json.loads(self.ctl(*args).stdout)

    def xml_of(self, schema, *args):
        """Runs a read verb with -x and validates its output with xmllint against schema/SCHEMA."""
        out = self.ctl(*(list(args) + ["-x"])).stdout
        self.assertTrue(out.endswith(">\n"), out)
        path = os.path.join(self.dir, "answer-%d.xml" % time.monotonic_ns())
        with open(path, "w") as f:
            f.write(out)
        r = subprocess.run(["xmllint", "--noout", "--schema", os.path.join(SCHEMA_DIR, schema), path],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "xmllint %s: %s\n%s" % (schema, r.stderr, out))
        return out

    def template(self, text, name=None):
        path = os.path.join(self.dir, name or "t-%d.tmpl" % time.monotonic_ns())
        with open(path, "w") as f:
            f.write(text)
        return path

    def create(self, text):
        out = self.ctl("create", self.template(text)).stdout
        m = re.fullmatch(r"ID: (\d+)\n", out)
        self.assertIsNotNone(m, out)
        return int(m.group(1))

    def script(self, name, body):
        path = os.path.join(self.hooks, name)
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o755)
        return path

    def emit(self, *args):
        r = subprocess.run([HM_PUBLISHER, "emit"] + list(args) + ["--endpoint", self.pub.cmd_endpoint],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def record(self, hook_id, exec_id):
        """Waits until execution exec_id of hook_id has finished; returns its XML element."""
        def done():
            for r in self.hemd.info(hook_id).iter("HOOK_EXECUTION_RECORD"):
                if r.findtext("EXECUTION_ID") == str(exec_id) and r.findtext("STATE") in FINAL:
                    return r
            return None
        try:
            return wait_for(done, timeout=WAIT, what="execution %s of hook %s" % (exec_id, hook_id))
        except AssertionError as e:
            raise AssertionError("%s; hem's log ends with:\n%s" % (e, self.hemd.log_text()[-2000:])) from None

    def log_row(self, lines, exec_id):
        rows = [ln for ln in lines if ln.split()[:1] == [str(exec_id)]]
        self.assertEqual(len(rows), 1, lines)
        return rows[0]


def complete(testcase, *words, env=None):
    """What cli/hookctl.bash-completion offers for the command line `hookctl WORDS` (the last word
    being completed), with the built hookctl first on PATH."""
    comp = os.path.join(SOURCE, "cli", "hookctl.bash-completion")
    script = ('source %s\nCOMP_WORDS=(hookctl %s)\nCOMP_CWORD=%d\n_hookctl\nprintf "%%s\\n" "${COMPREPLY[@]}"'
              % (comp, " ".join("'%s'" % w for w in words), len(words)))
    env = dict(env or env_without_endpoint())
    env["PATH"] = os.path.dirname(HOOKCTL) + os.pathsep + env.get("PATH", "")
    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    testcase.assertEqual(r.returncode, 0, r.stderr)
    testcase.assertEqual(r.stderr, "")
    return r.stdout.split()


def local(ts, tz=None, fmt="%m/%d %H:%M:%S"):
    return datetime.fromtimestamp(int(ts), tz or timezone.utc).strftime(fmt)


class WalkthroughTest(HookctlCase):
    def test_opennebula_state_hook_walkthrough(self):
        """OpenNebula's documented flow: a state hook whose script is missing fails, its stderr is
        shown, the script is added, `retry 0 0` succeeds and shows as a retry of 0."""
        self.assertEqual(self.create(PENDING_HOOK), 0)
        self.assertIn("hook-vm", self.ctl("list").stdout)
        self.emit("state", "VM", "0", "PENDING", "LCM_INIT")
        rec = self.record(0, 0)
        self.assertEqual(rec.findtext("STATE"), "ERROR")

        show = self.lines("show", "0")
        log = show[show.index("EXECUTION LOG"):]
        self.assertEqual(log[1].split(), ["ID", "TIMESTAMP", "RC", "EXECUTION"])
        row = self.log_row(log[1:], 0)
        self.assertEqual(row.split()[3:], ["255", "ERROR"])
        self.assertIn(local(rec.findtext("TIMESTAMP")), row)

        detail = self.ctl("show", "0", "-e", "0").stdout
        self.assertRegex(detail, r"(?m)^EXIT CODE +: 255$")
        self.assertRegex(detail, r"(?m)^EXECUTION +: ERROR$")
        self.assertRegex(detail, r"(?m)^COMMAND +: vm-pending\.rb$")
        stderr = detail[detail.index("\nSTDERR\n") + 8:]
        self.assertIn("vm-pending.rb", stderr)

        self.script("vm-pending.rb", '#!/bin/sh\nprintf "%s: " "$2"; echo "$1" | base64 -d; echo\n'
                    'echo "to stderr" >&2\n')
        self.assertEqual(self.ctl("retry", "0", "0").stdout, "EXECUTION ID: 1\n")
        rec = self.record(0, 1)
        self.assertEqual(rec.findtext("STATE"), "SUCCESS", self.hemd.info_xml(0))

        show = self.lines("show", "0")
        log = show[show.index("EXECUTION LOG"):]
        self.assertEqual(self.log_row(log[1:], 0).split()[3:], ["255", "ERROR"])
        self.assertEqual(self.log_row(log[1:], 1).split()[3:], ["0", "SUCCESS", "(retry", "of", "0)"])

        detail = self.ctl("show", "0", "-e", "1").stdout
        self.assertRegex(detail, r"(?m)^EXECUTION +: SUCCESS \(retry of 0\)$")
        self.assertRegex(detail, r"(?m)^RETRY OF +: 0$")
        out = detail[detail.index("\nSTDOUT\n") + 8:detail.index("\nSTDERR\n")]
        self.assertEqual(out, "pending: <VM><ID>0</ID></VM>\n")
        self.assertEqual(detail[detail.index("\nSTDERR\n") + 8:], "to stderr\n")

        doc = self.json_of("show", "0", "-j")
        recs = doc["HOOK"]["HOOKLOG"]["HOOK_EXECUTION_RECORD"]
        self.assertEqual([r["EXECUTION_ID"] for r in recs], ["0", "1"])
        self.assertEqual(recs[1]["EXECUTION_RESULT"]["STDOUT"], "pending: <VM><ID>0</ID></VM>\n")
        self.assertEqual(recs[1]["RETRY_OF"], "0")
        self.assertIn("vm-pending.rb", recs[0]["EXECUTION_RESULT"]["STDERR"])
        one = self.json_of("show", "0", "-e", "1", "-j")["HOOK_EXECUTION_RECORD"]
        self.assertEqual(one["EXECUTION_RESULT"]["STDERR"], "to stderr\n")
        self.xml_of("hook.xsd", "show", "0")
        xml = self.xml_of("hook_execution_record.xsd", "show", "0", "-e", "1")
        self.assertEqual(xml, self.hemd.info_xml(0, 1) + "\n", "-x prints hem's document as sent")
        logs = self.lines("log")
        self.assertEqual(logs[0].split(), ["HOOK", "ID", "TIMESTAMP", "RC", "EXECUTION", "COMMAND"])
        self.assertEqual(len(logs), 3, logs)


class VerbTest(HookctlCase):
    def test_create_from_file_and_stdin_and_list(self):
        """create FILE and create - print `ID: n`; list shows ID, NAME, TYPE and the trigger."""
        self.assertEqual(self.create(PENDING_HOOK), 0)
        self.assertEqual(self.ctl("create", "-", stdin=API_HOOK).stdout, "ID: 1\n")
        self.assertEqual(self.create(HOST_HOOK), 2)
        rows = self.lines("list")
        self.assertEqual(rows[0].split(), ["ID", "NAME", "TYPE", "TRIGGER"])
        self.assertEqual([r.split() for r in rows[1:]], [["0", "hook-vm", "state", "VM/PENDING/LCM_INIT"],
                                                         ["1", "on-allocate", "api", "one.vm.allocate"],
                                                         ["2", "host-error", "state", "HOST/ERROR"]])
        pool = self.json_of("list", "-j")
        self.assertEqual([h["NAME"] for h in pool["HOOK_POOL"]["HOOK"]], ["hook-vm", "on-allocate", "host-error"])
        self.assertEqual(pool["HOOK_POOL"]["HOOK"][1]["TEMPLATE"]["LABELS"], {"OWNER": "ops team", "TIER": "1"})
        xml = self.xml_of("hook_pool.xsd", "list")
        self.assertEqual(xml, self.hemd.pool_xml() + "\n")

    def test_completion_offers_hook_ids(self):
        """bash completion asks `hookctl list` for ids, at the endpoint the command line names."""
        if shutil.which("bash") is None:
            self.skipTest("no bash")
        self.create(API_HOOK)
        self.create(HOST_HOOK)
        env = env_without_endpoint(HOOKBUS_ENDPOINT=self.endpoint)
        self.assertEqual(complete(self, "show", "", env=env), ["0", "1"])
        self.assertEqual(complete(self, "delete", "1", "", env=env), ["0", "1"])
        self.assertEqual(complete(self, "log", "--hook-id", "", env=env), ["0", "1"])
        self.assertEqual(complete(self, "--endpoint", self.endpoint, "unlock", "1"), ["1"])
        self.assertEqual(complete(self, "retry", "0", "", env=env), [])

    def test_empty_pool_and_log_are_arrays(self):
        """With no hook at all the table has its header only and JSON has empty arrays."""
        self.assertEqual(self.lines("list"), ["ID NAME TYPE TRIGGER"])
        self.assertEqual(self.json_of("list", "-j"), {"HOOK_POOL": {"HOOK": []}})
        self.assertEqual(self.json_of("log", "-j"), {"HOOKLOG": {"HOOK_EXECUTION_RECORD": []}})
        self.xml_of("hook_pool.xsd", "list")
        self.xml_of("hooklog.xsd", "log")

    def test_show(self):
        """show prints onehook's three sections; -j mirrors the XML with one record as an array."""
        self.create(API_HOOK)
        show = self.lines("show", "0")
        self.assertEqual(show[0], "HOOK 0 INFORMATION")
        self.assertRegex(show[1], r"^ID +: 0$")
        self.assertRegex(show[2], r"^NAME +: on-allocate$")
        self.assertRegex(show[3], r"^TYPE +: api$")
        self.assertRegex(show[4], r"^LOCK +: None$")
        t = show.index("HOOK TEMPLATE")
        self.assertEqual(show[t + 1:t + 8], ['COMMAND="ok.sh"', 'ARGUMENTS="$API"', 'CALL="one.vm.allocate"',
                                            'LABELS=[', '  OWNER="ops team",', '  TIER="1" ]', ""])
        self.assertEqual(show[-2:], ["EXECUTION LOG", "ID TIMESTAMP RC EXECUTION"])
        doc = self.json_of("show", "0", "-j")
        self.assertEqual(doc["HOOK"]["HOOKLOG"], {"HOOK_EXECUTION_RECORD": []})
        self.assertEqual(doc["HOOK"]["TEMPLATE"]["CALL"], "one.vm.allocate")

        self.script("ok.sh", "#!/bin/sh\necho ok\n")
        self.emit("api", "one.vm.allocate", "--result", "1")
        self.record(0, 0)
        doc = self.json_of("show", "0", "-j")
        recs = doc["HOOK"]["HOOKLOG"]["HOOK_EXECUTION_RECORD"]
        self.assertIsInstance(recs, list)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["EXECUTION_RESULT"]["STDOUT"], "ok\n")
        self.assertEqual(recs[0]["EXECUTION_RESULT"]["CODE"], "0")
        self.assertEqual(list(doc["HOOK"])[:4], ["ID", "NAME", "TYPE", "TEMPLATE"])
        self.xml_of("hook.xsd", "show", "0")
        self.assertEqual(self.ctl("show", "0", "-x").stdout, self.hemd.info_xml(0) + "\n")

    def test_update_replace_append_and_rename(self):
        """update replaces the template (NAME and TYPE stay), --append merges, rename renames."""
        self.create(API_HOOK)
        self.assertEqual(self.ctl("update", "0", self.template("COMMAND = other.sh\nCALL = one.vm.update\n")).stdout,
                         "ID: 0\n")
        tmpl = self.json_of("show", "0", "-j")["HOOK"]["TEMPLATE"]
        self.assertEqual(tmpl, {"COMMAND": "other.sh", "CALL": "one.vm.update"})
        self.assertEqual(self.lines("list")[1].split(), ["0", "on-allocate", "api", "one.vm.update"])
        self.assertEqual(self.ctl("update", "0", "-", "--append", stdin='TIMEOUT = 5\nARGUMENTS = "a b"\n').stdout,
                         "ID: 0\n")
        tmpl = self.json_of("show", "0", "-j")["HOOK"]["TEMPLATE"]
        self.assertEqual(tmpl["COMMAND"], "other.sh")
        self.assertEqual(tmpl["TIMEOUT"], "5")
        self.assertEqual(tmpl["ARGUMENTS"], "a b")
        self.assertEqual(self.ctl("rename", "0", "renamed-hook").stdout, "ID: 0\n")
        self.assertEqual(self.json_of("show", "0", "-j")["HOOK"]["NAME"], "renamed-hook")
        r = self.ctl("rename", "0", "bad;name", code=1)
        self.assertNotIn("renamed", r.stdout)

    def test_lock_levels_refuse_changes(self):
        """lock takes --use (default), --manage, --admin, --all; a locked hook refuses update,
        rename and delete with hem's reason and exit 1; unlock lifts it."""
        self.create(API_HOOK)
        for flags, level, name in (([], "1", "Use"), (["--use"], "1", "Use"), (["--manage"], "2", "Manage"),
                                   (["--admin"], "3", "Admin"), (["--all"], "4", "All")):
            self.assertEqual(self.ctl("lock", "0", *flags).stdout, "ID: 0\n")
            self.assertEqual(self.json_of("show", "0", "-j")["HOOK"]["LOCK"]["LOCKED"], level)
            self.assertEqual(self.json_of("list", "-j")["HOOK_POOL"]["HOOK"][0]["LOCK"]["LOCKED"], level)
            self.assertIn("LOCK                : %s" % name, self.ctl("show", "0").stdout)
        self.xml_of("hook.xsd", "show", "0")
        for args in (["update", "0", self.template("COMMAND = x\n")], ["rename", "0", "other"], ["delete", "0"]):
            r = self.ctl(*args, code=1)
            self.assertIn("locked", r.stderr)
            self.assertEqual(r.stdout, "")
        self.assertEqual(self.ctl("unlock", "0").stdout, "ID: 0\n")
        self.assertNotIn("LOCK", self.json_of("show", "0", "-j")["HOOK"])
        self.assertEqual(self.ctl("rename", "0", "other").stdout, "ID: 0\n")
        self.assertEqual(self.ctl("delete", "0").stdout, "ID: 0\n")

    def test_delete_tries_every_id(self):
        """delete ID... deletes what it can, prints one error line per failure and exits 1."""
        for i in range(3):
            self.create(API_HOOK.replace("on-allocate", "hook-%d" % i))
        self.ctl("lock", "1")
        r = subprocess.run([HOOKCTL, "delete", "0", "1", "2", "99", "--endpoint", self.endpoint],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "ID: 0\nID: 2\n")
        errs = r.stderr.splitlines()
        self.assertEqual(len(errs), 2, r.stderr)
        self.assertRegex(errs[0], r"^hookctl: hook 1 is locked")
        self.assertRegex(errs[1], r"^hookctl: hook 99 does not exist")
        self.assertEqual([h["ID"] for h in self.json_of("list", "-j")["HOOK_POOL"]["HOOK"]], ["1"])

    def test_refusals_carry_hems_reason(self):
        """What hem refuses exits 1 with hem's reason: a template's line and column, an unknown
        hook or execution."""
        r = self.ctl("create", self.template('NAME = broken\nTYPE = api\nCOMMAND = "x\n'), code=1)
        self.assertRegex(r.stderr, r"^hookctl: line 3, column \d+: ")
        r = self.ctl("create", "-", stdin="NAME = x\nTYPE = state\nCOMMAND = y\nON = NOWHERE\nRESOURCE = VM\n",
                     code=1)
        self.assertIn("NOWHERE", r.stderr)
        self.ctl("show", "42", code=1)
        self.ctl("update", "42", self.template("COMMAND = x\n"), code=1)
        self.ctl("rename", "42", "x", code=1)
        self.ctl("lock", "42", code=1)
        self.ctl("retry", "42", "0", code=1)
        self.create(API_HOOK)
        self.assertIn("hookctl: ", self.ctl("show", "0", "-e", "7", code=1).stderr)
        self.ctl("retry", "0", "7", code=1)
        self.ctl("create", self.template(API_HOOK), code=1)   # the name is taken
        self.assertEqual(len(self.json_of("list", "-j")["HOOK_POOL"]["HOOK"]), 1)

    def test_timeout_is_visible(self):
        """A hook killed by its TIMEOUT shows as ERROR (timeout) with code 255."""
        self.script("slow.sh", "#!/bin/sh\necho started\nexec sleep 30\n")
        self.create("NAME = slow\nTYPE = api\nCOMMAND = slow.sh\nCALL = one.host.create\nTIMEOUT = 1\n")
        self.emit("api", "one.host.create", "--result", "1")
        self.record(0, 0)
        row = self.log_row(self.lines("show", "0")[-2:], 0)
        self.assertEqual(row.split()[3:], ["255", "ERROR", "(timeout)"])
        detail = self.ctl("show", "0", "-e", "0").stdout
        self.assertRegex(detail, r"(?m)^TIMED OUT +: yes$")
        self.assertRegex(detail, r"(?m)^EXECUTION +: ERROR \(timeout\)$")
        self.assertRegex(detail, r"(?m)^DURATION +: \d")
        self.assertIn("\nSTDOUT\nstarted\n", detail)
        self.assertEqual(self.json_of("show", "0", "-e", "0", "-j")["HOOK_EXECUTION_RECORD"]["TIMED_OUT"], "yes")


class LogTest(HookctlCase):
    def setUp(self):
        super().setUp()
        self.script("ok.sh", "#!/bin/sh\necho fine\n")
        self.script("bad.sh", "#!/bin/sh\nprintf 'bad \\377\\376 bytes\\n' >&2\nexit 3\n")
        self.create("NAME = good\nTYPE = api\nCOMMAND = ok.sh\nCALL = one.vm.allocate\n")
        self.create("NAME = failing\nTYPE = api\nCOMMAND = bad.sh\nCALL = one.vm.allocate\n")
        self.emit("api", "one.vm.allocate", "--result", "1")
        self.recs = [self.record(0, 0), self.record(1, 0)]
        self.times = sorted(int(r.findtext("TIMESTAMP")) for r in self.recs)

    def hooks_of(self, *args):
        doc = self.json_of("log", "-j", *args)
        return sorted((r["HOOK_ID"], r["EXECUTION_RESULT"]["CODE"]) for r in doc["HOOKLOG"]["HOOK_EXECUTION_RECORD"])

    def test_log_table_and_formats(self):
        """log prints HOOK, ID, TIMESTAMP (local time), RC, EXECUTION, COMMAND across hooks; -j
        decodes output (bytes that are not UTF-8 become U+FFFD); -x is valid HOOKLOG."""
        rows = self.lines("log")
        self.assertEqual(rows[0].split(), ["HOOK", "ID", "TIMESTAMP", "RC", "EXECUTION", "COMMAND"])
        cells = sorted(r.split() for r in rows[1:])
        self.assertEqual([c[:2] + c[4:] for c in cells], [["0", "0", "0", "SUCCESS", "ok.sh"],
                                                         ["1", "0", "3", "ERROR", "bad.sh"]])
        doc = self.json_of("log", "-j")
        recs = doc["HOOKLOG"]["HOOK_EXECUTION_RECORD"]
        self.assertEqual(len(recs), 2)
        by_hook = {r["HOOK_ID"]: r for r in recs}
        self.assertEqual(by_hook["0"]["EXECUTION_RESULT"]["STDOUT"], "fine\n")
        self.assertEqual(by_hook["1"]["EXECUTION_RESULT"]["STDERR"], "bad \ufffd\ufffd bytes\n")
        xml = self.xml_of("hooklog.xsd", "log")
        self.assertEqual(xml, self.hemd.log_xml() + "\n")
        self.assertEqual(self.hooks_of("--hook-id", "1"), [("1", "3")])
        self.assertEqual(self.hooks_of("--success"), [("0", "0")])
        self.assertEqual(self.hooks_of("--error"), [("1", "3")])
        self.assertEqual(self.hooks_of("--hook-id", "0", "--error"), [])
        self.assertEqual(self.hooks_of("--hook-id", "7"), [])
        detail = self.ctl("show", "1", "-e", "0").stdout   # the bytes as the hook wrote them
        self.assertTrue(detail.endswith("\nSTDERR\nbad \ufffd\ufffd bytes\n"), detail)

    def test_dates_epoch_and_iso(self):
        """--since/--until take epoch seconds and ISO 8601 (Z, an offset, or local time), both
        inclusive; a bad date is a usage error."""
        first, last = self.times
        all_ = [("0", "0"), ("1", "3")]
        self.assertEqual(self.hooks_of("--since", str(first), "--until", str(last)), all_)
        self.assertEqual(self.hooks_of("--since", str(last + 1)), [])
        self.assertEqual(self.hooks_of("--until", str(first - 1)), [])
        at_first = sorted((r.findtext("HOOK_ID"), r.findtext("EXECUTION_RESULT/CODE")) for r in self.recs
                          if int(r.findtext("TIMESTAMP")) == first)
        utc = datetime.fromtimestamp(first, timezone.utc)
        self.assertEqual(self.hooks_of("--since", utc.strftime("%Y-%m-%dT%H:%M:%SZ")), all_)
        self.assertEqual(self.hooks_of("--until", utc.strftime("%Y-%m-%dT%H:%M:%SZ")), at_first)
        self.assertEqual(self.hooks_of("--until", utc.strftime("%Y-%m-%d %H:%M:%Sz")), at_first)
        # An offset counts: ignored, these bounds would be two hours later and select the opposite.
        def plus2(t):
            return datetime.fromtimestamp(t, ZoneInfo("Etc/GMT-2")).strftime("%Y-%m-%dT%H:%M:%S")   # UTC+02:00
        self.assertEqual(self.hooks_of("--since", plus2(first) + "+02:00"), all_)
        self.assertEqual(self.hooks_of("--until", plus2(first - 1) + "+0200"), [])
        self.assertEqual(self.hooks_of("--since", plus2(first) + "+02"), all_)
        self.assertEqual(self.hooks_of("--since", utc.strftime("%Y-%m-%d")), all_)   # local (UTC) midnight
        # Without a zone it is local time: read as UTC, Tokyo's (UTC+9) wall clock would be nine
        # hours later and select the opposite.
        def tokyo(t):
            return datetime.fromtimestamp(t, ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%dT%H:%M:%S")
        env = env_without_endpoint(TZ="Asia/Tokyo")
        r = self.ctl("log", "-j", "--since", tokyo(first), env=env)
        self.assertEqual(len(json.loads(r.stdout)["HOOKLOG"]["HOOK_EXECUTION_RECORD"]), 2)
        r = self.ctl("log", "-j", "--until", tokyo(first - 1), env=env)
        self.assertEqual(json.loads(r.stdout)["HOOKLOG"]["HOOK_EXECUTION_RECORD"], [])
        for bad in ("yesterday", "2024-13-01", "2024-02-30", "2024-05-01T25:00", "2024-05-01T12:00+1",
                    "2024-05-01T12:00:00Zx", "-5", "1.5", ""):
            r = self.ctl("log", "--since", bad, code=2)
            self.assertIn("--since", r.stderr)
        self.ctl("log", "--since", str(last), "--until", str(first - 1), code=2)

    def test_times_are_local(self):
        """Tables show the start in local time (TZ), onehook's MM/DD HH:MM:SS; show -e the full date."""
        for tz in ("Asia/Tokyo", "America/New_York"):
            env = env_without_endpoint(TZ=tz)
            rows = self.ctl("log", "--hook-id", "0", env=env).stdout.splitlines()
            ts = int(self.recs[0].findtext("TIMESTAMP"))
            self.assertIn(local(ts, ZoneInfo(tz)), rows[1])
            rows = self.ctl("show", "0", env=env).stdout.splitlines()
            self.assertIn(local(ts, ZoneInfo(tz)), rows[-1])
            detail = self.ctl("show", "0", "-e", "0", env=env).stdout
            self.assertIn(local(ts, ZoneInfo(tz), "%Y-%m-%d %H:%M:%S"), detail)


class ErrorTest(HookctlCase):
    def test_usage_errors_exit_2(self):
        """Bad options and arguments, unreadable or oversized files, bad dates: exit 2 with one
        line saying what is wrong, and nothing is sent to hem."""
        self.create(API_HOOK)
        big = self.template("# " + "x" * (1 << 20) + "\n")
        nul = self.template("NAME = a\0b\n")
        cases = [
            ([], "no verb"), (["bogus"], "bogus"), (["list", "--bogus"], "--bogus"), (["--bogus", "list"], "--bogus"),
            (["list", "extra"], "extra"), (["show"], "missing"), (["show", "abc"], "abc"), (["show", "0", "1"], "1"),
            (["show", "0", "-e"], "-e"), (["show", "0", "-e", "x"], "'x'"), (["show", "-1"], "-1"),
            (["show", "0", "-e", "1", "-e", "2"], "twice"),
            (["create"], "missing"), (["create", os.path.join(self.dir, "missing.tmpl")], "missing.tmpl"),
            (["create", self.dir], self.dir), (["create", big], "1 MiB"), (["create", nul], "NUL"),
            (["update", "0"], "missing"), (["update", "0", big], "1 MiB"), (["update", "x", big], "'x'"),
            (["rename", "0"], "missing"), (["delete"], "missing"), (["delete", "0", "x"], "'x'"),
            (["lock", "0", "--use", "--all"], "only one"), (["lock", "0", "--level"], "--level"),
            (["unlock"], "missing"), (["retry", "0"], "missing"), (["retry", "0", "y"], "'y'"),
            (["log", "--hook-id", "-1"], "--hook-id"), (["log", "--success", "--error"], "only one"),
            (["log", "extra"], "extra"), (["log", "--since"], "--since"),
            (["-x", "-j", "list"], "-x"), (["create", "-x", self.template(API_HOOK)], "-x"),
            (["delete", "0", "-j"], "-j"), (["--timeout", "0", "list"], "--timeout"),
            (["list", "--timeout", "abc"], "--timeout"), (["list", "--timeout"], "--timeout"),
            (["list", "-c", os.path.join(self.dir, "missing.conf")], "missing.conf"),
            (["list", "-c", self.template("NO_SUCH_KEY = 1\n")], "NO_SUCH_KEY"),
            (["list", "--xml=yes"], "--xml"), (["list", "--endpoint", "bogus://x"], "bogus://x"),
            (["list", "--endpoint=tcp://:x"], "tcp://:x"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = self.ctl(*args, code=2, endpoint=False)
                self.assertEqual(r.stdout, "")
                self.assertIn(needle, r.stderr)
        self.assertEqual([h["NAME"] for h in self.json_of("list", "-j")["HOOK_POOL"]["HOOK"]], ["on-allocate"])

    def test_refused_versus_unreachable(self):
        """hem's refusal exits 1, an unreachable hem exits 3 naming the endpoint, for every verb."""
        self.ctl("show", "5", code=1)
        tmpl = self.template(API_HOOK)
        nothing = "ipc://%s/run/nothing.sock" % self.dir
        port = "tcp://127.0.0.1:%d" % free_port()
        for args in (["list"], ["show", "0"], ["show", "0", "-e", "0"], ["create", tmpl], ["update", "0", tmpl],
                     ["rename", "0", "x"], ["delete", "0", "1"], ["lock", "0"], ["unlock", "0"], ["retry", "0", "0"],
                     ["log"]):
            with self.subTest(args=args):
                t0 = time.monotonic()
                r = self.ctl(*(args + ["--endpoint", nothing]), endpoint=False, code=3)
                self.assertTrue(r.stderr.startswith("hookctl: cannot reach hem at %s: " % nothing), r.stderr)
                self.assertLess(time.monotonic() - t0, 5.0, "a missing ipc socket is reported at once")
        r = self.ctl("--timeout", "300", "list", "--endpoint", port, endpoint=False, code=3)
        self.assertTrue(r.stderr.startswith("hookctl: cannot reach hem at %s: " % port), r.stderr)
        self.assertIn("300 ms", r.stderr)
        r = self.ctl("--timeout=300", "delete", "0", "1", "--endpoint=" + port, endpoint=False, code=3)
        self.assertEqual(len(r.stderr.splitlines()), 1, "delete stops at an unreachable hem")
        self.hemd.stop()
        r = self.ctl("list", "--timeout", "500", code=3)
        self.assertIn(self.endpoint, r.stderr)

    def test_endpoint_precedence(self):
        """--endpoint, else $HOOKBUS_ENDPOINT, else CONTROL_ENDPOINT of -c FILE, else the default."""
        bogus = "ipc://%s/run/bogus.sock" % self.dir
        conf = self.template("# a hem.conf\nCONTROL_ENDPOINT = %s\nDATABASE = /nowhere/hem.db\n" % self.endpoint)
        bad_conf = self.template("CONTROL_ENDPOINT = %s\n" % bogus)
        self.ctl("list", env=env_without_endpoint(HOOKBUS_ENDPOINT=bogus))   # --endpoint wins
        self.ctl("list", env=env_without_endpoint(HOOKBUS_ENDPOINT=self.endpoint), endpoint=False)
        r = self.ctl("list", "-c", bad_conf, env=env_without_endpoint(HOOKBUS_ENDPOINT=self.endpoint), endpoint=False)
        self.assertIn("ID", r.stdout)
        self.ctl("-c", conf, "list", endpoint=False)
        self.ctl("list", "--config", conf, env=env_without_endpoint(HOOKBUS_ENDPOINT=""), endpoint=False)
        r = self.ctl("list", "-c", bad_conf, endpoint=False, code=3)
        self.assertIn(bogus, r.stderr)
        r = self.ctl("list", "--timeout", "300", endpoint=False, code=3)
        self.assertIn("cannot reach hem at ipc:///run/hookbus/hem.sock", r.stderr)
        r = self.ctl("list", "--timeout", "300", "-c", os.path.join(SOURCE, "conf", "hem.conf"), endpoint=False, code=3)
        self.assertIn("cannot reach hem at ipc:///run/hookbus/hem.sock", r.stderr, "the shipped hem.conf is read")


class HelpTest(HookctlCase):
    start_daemons = False

    def test_help_and_version(self):
        """--help (global and per verb, before or after it) and --version exit 0 on stdout."""
        for flag in ("--help", "-h"):
            out = self.ctl(flag, endpoint=False).stdout
            self.assertTrue(out.startswith("usage: hookctl "), out)
            for v in VERBS:
                self.assertRegex(out, r"(?m)^  %s\b" % v)
            for opt in ("-x", "-j", "--endpoint", "--timeout", "-c", "--version"):
                self.assertIn(opt, out)
        for v in VERBS:
            with self.subTest(verb=v):
                out = self.ctl(v, "--help", endpoint=False).stdout
                self.assertTrue(out.startswith("usage: hookctl %s" % v), out)
                self.assertEqual(self.ctl("--help", v, endpoint=False).stdout, out)
                self.assertEqual(self.ctl(v, "1", "-h", endpoint=False).stdout, out)
        self.assertIn("--since", self.ctl("log", "--help", endpoint=False).stdout)
        self.assertIn("--manage", self.ctl("lock", "--help", endpoint=False).stdout)
        self.assertIn("-e, --execution EXEC_ID", self.ctl("show", "--help", endpoint=False).stdout)
        self.assertRegex(self.ctl("--version", endpoint=False).stdout, r"\Ahookctl \d+\.\d+\.\d+\n\Z")

    def test_man_page_and_completion(self):
        """The man page renders without warnings; bash completion offers verbs and options."""
        man = os.path.join(SOURCE, "man", "hookctl.1")
        if shutil.which("groff"):
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", man], capture_output=True, text=True)
            self.assertEqual(r.stderr, "")
        with open(man) as f:
            text = f.read()
        for v in VERBS:
            self.assertRegex(text, r'(?m)^\.BI? "?%s\b' % v)
        if shutil.which("bash") is None:
            self.skipTest("no bash")
        env = env_without_endpoint(HOOKBUS_ENDPOINT="ipc://%s/none.sock" % self.dir)
        self.assertEqual(sorted(complete(self, "", env=env)), sorted(VERBS))
        self.assertEqual(complete(self, "sh", env=env), ["show"])
        self.assertEqual(complete(self, "-x", "sh", env=env), ["show"])
        self.assertIn("--manage", complete(self, "lock", "0", "--", env=env))
        self.assertIn("--since", complete(self, "log", "--", env=env))
        self.assertIn("--append", complete(self, "update", "0", "f", "--", env=env))
        self.assertIn("--json", complete(self, "list", "--", env=env))
        self.assertEqual(complete(self, "show", "", env=env), [], "no ids when hem is unreachable")


if __name__ == "__main__":
    unittest.main(verbosity=2)
