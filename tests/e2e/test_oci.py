"""test_oci.py -- proves `hm-publisher oci-hook` turns a container's state into one acknowledged
CONTAINER event (document, keys, escaping, bad input, fail-open and fail-closed), that
`install-oci-hook` writes hooks.d 1.0.0 descriptors atomically and removes them, and that a real
runc calling oci-hook makes hem run CONTAINER state hooks, still starts containers with the bus down
and refuses them under --fail-closed.

Everything runs in a temporary directory against a real hm-publisher (and hem); the runc tests need
root, runc and busybox-static (scripts/setup installs both) and build a busybox root filesystem."""
import base64
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

import jsonschema

sys.path.insert(0, os.path.dirname(__file__))
from harness import (HM_PUBLISHER, SOURCE, DaemonTest, RuncCase, free_port, request,  # noqa: E402
                     settle_subscription, wait_for)

SCHEMA = os.path.join(SOURCE, "tests", "data", "oci-hooks-1.0.0.schema.json")
XSD = os.path.join(SOURCE, "schema", "hook_message.xsd")
STAGES = [("createRuntime", "CREATE_RUNTIME"), ("createContainer", "CREATE_CONTAINER"),
          ("startContainer", "START_CONTAINER"), ("prestart", "PRESTART"), ("poststart", "POSTSTART"),
          ("poststop", "POSTSTOP")]
WAIT = 60.0


def state_json(cid="c1", status="creating", pid=4242, bundle=None, annotations=None, **extra):
    """The state JSON a runtime writes on a hook's stdin (bundle and pid left out when None)."""
    s = {"ociVersion": "1.0.2", "id": cid, "status": status}
    if pid is not None:
        s["pid"] = pid
    if bundle is not None:
        s["bundle"] = bundle
    if annotations is not None:
        s["annotations"] = annotations
    s.update(extra)
    return json.dumps(s)


CONFIG = {
    "ociVersion": "1.0.2",
    "hostname": "web",
    "process": {"terminal": False, "user": {"uid": 1000, "gid": 100, "additionalGids": [5, 27]},
                "args": ["/usr/bin/nginx", "-g", "daemon off;"], "cwd": "/",
                "capabilities": {"bounding": ["CAP_KILL", "CAP_SYS_ADMIN"], "effective": ["CAP_KILL"]},
                "noNewPrivileges": False},
    "root": {"path": "rootfs", "readonly": True},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rw"]}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/blue"}]},
}


def xml_safe(s):
    """What the document makes of s: characters XML 1.0 cannot carry become U+FFFD."""
    return "".join("\ufffd" if (ord(c) < 0x20 and c not in "\t\n\r") or c in "\ufffe\uffff" else c for c in s)


RECORDER = r'''#!/usr/bin/python3
import json, os, sys
with open(%(out)r, "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "key": os.environ.get("HOOK_EVENT_KEY")}) + "\n")
'''


class OciCase(DaemonTest):
    """A publisher, a subscriber on CONTAINER events, and oci-hook runs against them."""

    def setUp(self):
        super().setUp()
        self.pub = self.publisher()
        self.sub = self.subscriber(self.pub, ("EVENT API hookbus.test.probe", "EVENT STATE CONTAINER/"))
        settle_subscription(self.pub, self.sub)

    def hook(self, stage, stdin, *opts, endpoint=True, env=None, preexec_fn=None):
        argv = [HM_PUBLISHER, "oci-hook", stage] + (["--endpoint", self.pub.cmd_endpoint] if endpoint else [])
        argv += list(opts)
        return subprocess.run(argv, input=stdin.encode() if isinstance(stdin, str) else stdin,
                              capture_output=True, timeout=60, env=env, preexec_fn=preexec_fn)

    def hook_ok(self, stage, stdin, *opts):
        r = self.hook(stage, stdin, *opts)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r

    def event(self):
        """The next CONTAINER event: (key, HOOK_MESSAGE element, raw XML)."""
        while True:
            m = self.sub.recv(timeout_ms=10000)
            self.assertIsNotNone(m, "no CONTAINER event was published")
            if m[0].startswith(b"EVENT STATE CONTAINER/"):
                raw = base64.b64decode(m[1], validate=True)
                return m[0].decode(), ET.fromstring(raw), raw

    def no_event(self):
        m = self.sub.recv(timeout_ms=300)
        self.assertIsNone(m, "nothing should have been published, got %r" % (m,))

    def head(self):
        """The publisher's last sequence number."""
        return int(request(self.pub.cmd_endpoint, ["REPLAY 1"])[0].split()[3])

    def bundle(self, config=CONFIG, name="bundle"):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        if config is not None:
            with open(os.path.join(d, "config.json"), "w") as f:
                f.write(config if isinstance(config, str) else json.dumps(config))
        return d

    def recorder_hem(self, pub):
        """Starts hem with rec.py, a hook that appends its argv and event key to out/hooks.jsonl; returns
        (hem, a function that reads the records)."""
        hem = self.hem(pub)
        out = os.path.join(self.dir, "out", "hooks.jsonl")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        rec = os.path.join(hem.hook_base_path, "rec.py")
        with open(rec, "w") as f:
            f.write(RECORDER % {"out": out})
        os.chmod(rec, 0o755)

        def records():
            try:
                with open(out) as f:
                    return [json.loads(line) for line in f]
            except FileNotFoundError:
                return []
        return hem, records

    def validate_xsd(self, raw):
        if shutil.which("xmllint") is None:
            sys.stderr.write("[note: xmllint is not installed: CONTAINER message not validated]\n")
            return
        r = subprocess.run(["xmllint", "--noout", "--schema", XSD, "-"], input=raw, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr.decode())


class OciHookTest(OciCase):
    def test_container_document(self):
        """A createRuntime state with annotations and a bundle gives one CONTAINER/CREATE_RUNTIME event
        keyed by the container id, REMOTE_HOST this node, and the <CONTAINER> document of DESIGN 3."""
        b = self.bundle()
        by_id = self.subscriber(self.pub, ("EVENT API hookbus.test.probe", "EVENT CONTAINER web-1/"))
        settle_subscription(self.pub, by_id)
        self.hook_ok("createRuntime", state_json("web-1", bundle=b,
                                                 annotations={"io.kubernetes.pod.name": "web", "team": "blue"}))
        key, msg, raw = self.event()
        self.assertEqual(key, "EVENT STATE CONTAINER/CREATE_RUNTIME//web-1 ")
        other = by_id.recv()
        self.assertEqual(other, [b"EVENT CONTAINER web-1/CREATE_RUNTIME/ ", base64.b64encode(raw)])
        self.validate_xsd(raw)
        self.assertEqual([c.tag for c in msg], ["HOOK_TYPE", "SEQ", "HOOK_OBJECT", "STATE", "RESOURCE_ID",
                                               "REMOTE_HOST", "CONTAINER"])
        self.assertEqual((msg.findtext("HOOK_OBJECT"), msg.findtext("STATE"), msg.findtext("RESOURCE_ID")),
                         ("CONTAINER", "CREATE_RUNTIME", "web-1"))
        self.assertEqual(msg.findtext("REMOTE_HOST"), socket.gethostname())
        c = msg.find("CONTAINER")
        self.assertEqual([(e.tag, e.text) for e in c][:6],
                         [("OCI_VERSION", "1.0.2"), ("ID", "web-1"), ("STATUS", "creating"), ("PID", "4242"),
                          ("BUNDLE", b), ("STAGE", "createRuntime")])
        self.assertEqual([(a.findtext("KEY"), a.findtext("VALUE")) for a in c.findall("ANNOTATIONS/ANNOTATION")],
                         [("io.kubernetes.pod.name", "web"), ("team", "blue")])
        self.assertEqual(c.findtext("HOSTNAME"), "web")
        self.assertEqual([a.text for a in c.findall("PROCESS/ARGS/ARG")], ["/usr/bin/nginx", "-g", "daemon off;"])
        self.assertEqual((c.findtext("PROCESS/USER/UID"), c.findtext("PROCESS/USER/GID")), ("1000", "100"))
        self.assertEqual([g.text for g in c.findall("PROCESS/USER/ADDITIONAL_GIDS/GID")], ["5", "27"])
        self.assertEqual(c.findtext("PROCESS/NO_NEW_PRIVILEGES"), "NO")
        self.assertEqual([x.text for x in c.findall("PROCESS/CAPABILITIES/BOUNDING/CAPABILITY")],
                         ["CAP_KILL", "CAP_SYS_ADMIN"])
        self.assertEqual([x.text for x in c.findall("PROCESS/CAPABILITIES/EFFECTIVE/CAPABILITY")], ["CAP_KILL"])
        self.assertEqual((c.findtext("ROOT/PATH"), c.findtext("ROOT/READONLY")), ("rootfs", "YES"))
        mounts = [(m.findtext("DESTINATION"), m.findtext("TYPE"), m.findtext("SOURCE"),
                   [o.text for o in m.findall("OPTIONS/OPTION")]) for m in c.findall("MOUNTS/MOUNT")]
        self.assertEqual(mounts, [("/proc", "proc", "proc", []), ("/data", "bind", "/srv/data", ["rbind", "rw"])])
        self.assertEqual([(n.findtext("TYPE"), n.findtext("PATH")) for n in c.findall("NAMESPACES/NAMESPACE")],
                         [("pid", None), ("network", "/var/run/netns/blue")])
        self.no_event()

    def test_hem_state_hook_on_container(self):
        """hem accepts state hooks on RESOURCE = CONTAINER (any case, no LCM_STATE: one is refused), runs the
        POSTSTART one with the <CONTAINER> document as $TEMPLATE, and not the CREATE_RUNTIME one."""
        hem, records = self.recorder_hem(self.pub)
        started = hem.allocate("NAME = started\nTYPE = state\nRESOURCE = container\nSTATE = POSTSTART\n"
                               "COMMAND = rec.py\nARGUMENTS = \"$TEMPLATE started\"\n")
        created = hem.allocate("NAME = created\nTYPE = state\nRESOURCE = CONTAINER\nON = CUSTOM\n"
                               "STATE = CREATE_RUNTIME\nCOMMAND = rec.py\n")
        status, reason = hem.control("ALLOCATE", "NAME = bad\nTYPE = state\nRESOURCE = CONTAINER\nON = CUSTOM\n"
                                                 "STATE = POSTSTOP\nLCM_STATE = LCM_INIT\nCOMMAND = rec.py\n")
        self.assertEqual((status, "has no LCM states" in reason), ("ERROR", True), reason)
        self.hook_ok("poststart", state_json("svc-9", status="running", annotations={"team": "<blue>"}))
        recs = wait_for(records, WAIT, "the POSTSTART hook to run")
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["key"], "EVENT STATE CONTAINER/POSTSTART//svc-9 ")
        self.assertEqual(recs[0]["argv"][1], "started")
        doc = ET.fromstring(base64.b64decode(recs[0]["argv"][0]))
        self.assertEqual((doc.tag, doc.findtext("ID"), doc.findtext("STATUS"), doc.findtext("STAGE")),
                         ("CONTAINER", "svc-9", "running", "poststart"))
        self.assertEqual(doc.findtext("ANNOTATIONS/ANNOTATION/VALUE"), "<blue>")
        head = self.head()
        wait_for(lambda: hem.last_seq() >= head, WAIT, "hem to take every event")
        self.assertEqual(hem.db("SELECT count(*) FROM hook_log WHERE hook_id = ?", (created,))[0][0], 0)
        self.assertEqual(hem.db("SELECT count(*) FROM hook_log WHERE hook_id = ?", (started,))[0][0], 1)

    def test_stage_spellings(self):
        """Every stage is accepted in its OCI spelling and as its CONTAINER state name, in any case; STATE is
        the state name, STAGE the OCI spelling."""
        for oci, state in STAGES:
            for spelling in (oci, state, oci.upper(), state.lower()):
                self.hook_ok(spelling, state_json("s1", pid=None))
                key, msg, _ = self.event()
                self.assertEqual(key, "EVENT STATE CONTAINER/%s//s1 " % state)
                self.assertEqual(msg.findtext("CONTAINER/STAGE"), oci)
                self.assertIsNone(msg.find("CONTAINER/PID"))
                self.assertIsNone(msg.find("CONTAINER/BUNDLE"))

    def test_hostile_values_are_escaped(self):
        """Annotation keys and values with markup, CDATA ends, entities, control characters and non-ASCII
        arrive intact (control characters as U+FFFD); a long value too; the message stays valid."""
        hostile = {
            "<KEY>": "</VALUE></ANNOTATION><ANNOTATION><KEY>x</KEY><VALUE>injected",
            "amp&": "&amp; &#0; &lt;",
            "cdata": "]]><![CDATA[x]]>",
            "ctl": "a\u0001b\u001fc\td\ne\rf\u007f",
            "uni": "caf\u00e9 \u4e2d\u6587 \U0001F600 \ufffe\uffff",
            "quote": "'\"",
            "long": "x" * 200000,
        }
        b = self.bundle(dict(CONFIG, hostname="<h>&", process={"args": ["sh", "-c", "echo '<&>'"]}))
        self.hook_ok("poststart", state_json("h1", bundle=b, annotations=hostile))
        _, msg, raw = self.event()
        self.validate_xsd(raw)
        got = {a.findtext("KEY"): a.findtext("VALUE") or "" for a in msg.findall("CONTAINER/ANNOTATIONS/ANNOTATION")}
        self.assertEqual(got, {k: xml_safe(v) for k, v in hostile.items()})
        self.assertEqual(got["ctl"], "a\ufffdb\ufffdc\td\ne\rf\u007f")
        self.assertEqual(msg.findtext("CONTAINER/HOSTNAME"), "<h>&")
        self.assertEqual([a.text for a in msg.findall("CONTAINER/PROCESS/ARGS/ARG")], ["sh", "-c", "echo '<&>'"])

    def test_malformed_stdin(self):
        """Empty, closed, truncated, non-object, oversized stdin, a missing or unusable id: a clear error, nothing
        published; exit 0 with a warning (fail-open), exit 2 under --fail-closed."""
        cases = [
            ("", "standard input is empty"),
            ("{", "not valid JSON"),
            ("[1, 2]", "not a JSON object"),
            ('{"ociVersion": "1", "status": "creating"}', "id is missing"),
            (state_json(cid="a/b"), "not a usable container id"),
            (state_json(cid="a b"), "not a usable container id"),
            (state_json(pid="12"), "pid is not an integer"),
            (state_json(annotations=["x"]), "annotations is not an object"),
            (state_json(annotations={"k": "v" * (1 << 20)}), "larger than"),
            (b'{"ociVersion":"1","id":"c","status":"s","x":"\xff"}', "not valid JSON"),
        ]
        head = self.head()
        for stdin, why in cases:
            r = self.hook("createRuntime", stdin)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 0, err)
            self.assertIn("warning: CREATE_RUNTIME event not published", err)
            self.assertIn(why, err)
            self.assertIn("fail-open", err)
            r = self.hook("createRuntime", stdin, "--fail-closed")
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(why, r.stderr.decode())
            self.assertIn("--fail-closed", r.stderr.decode())
        r = self.hook("poststop", "", "--fail-closed", preexec_fn=lambda: os.close(0))
        self.assertEqual(r.returncode, 2)
        self.assertIn("no standard input", r.stderr.decode())
        self.assertEqual(self.head(), head, "a bad state must not be published")
        self.no_event()

    def test_missing_or_bad_config_json(self):
        """A bundle without config.json, or with a malformed one, is not fatal: a warning, and the event is
        published with the state only."""
        for config, why in ((None, "cannot open"), ("{not json", "not valid JSON"),
                            ('{"process": {"args": "sh"}}', "process.args is not an array")):
            b = self.bundle(config, name="b-%s" % why.replace(" ", "-"))
            r = self.hook("createRuntime", state_json("m1", bundle=b), "--fail-closed")
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 0, err)
            self.assertIn("warning: container m1", err)
            self.assertIn(why, err)
            _, msg, _ = self.event()
            c = msg.find("CONTAINER")
            self.assertEqual(c.findtext("BUNDLE"), b)
            self.assertEqual([e.tag for e in c], ["OCI_VERSION", "ID", "STATUS", "PID", "BUNDLE", "STAGE", "ANNOTATIONS"])

    def test_publisher_refuses(self):
        """A message the publisher refuses (here: larger than its MAX_MESSAGE_SIZE) is a warning and exit 0,
        or exit 1 under --fail-closed."""
        self.pub.stop()
        small = self.publisher(extra=["--max-message-size", "2048"], journal=os.path.join(self.dir, "j2.db"))
        stdin = state_json("r1", annotations={"k": "v" * 4000})
        argv = [HM_PUBLISHER, "oci-hook", "poststop", "--endpoint", small.cmd_endpoint]
        r = subprocess.run(argv, input=stdin.encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("refused by the publisher", r.stderr.decode())
        r = subprocess.run(argv + ["--fail-closed"], input=stdin.encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("refused by the publisher", r.stderr.decode())

    def test_usage_errors(self):
        """Bad arguments exit 2 whatever the policy, before reading stdin; --help exits 0."""
        for args in (["bogus"], [], ["poststop", "poststart"], ["poststop", "--timeout", "0"],
                     ["poststop", "--timeout"], ["poststop", "--wat"]):
            r = subprocess.run([HM_PUBLISHER, "oci-hook"] + args, input=state_json().encode(), capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("Try 'hm-publisher oci-hook --help'", r.stderr.decode())
        r = subprocess.run([HM_PUBLISHER, "oci-hook", "--help"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--fail-closed", r.stdout.decode())
        self.no_event()

    def test_endpoint_from_environment_and_config(self):
        """Without --endpoint: $HOOKBUS_PUBLISHER, else -c FILE's COMMAND_ENDPOINT; a bad -c FILE is a warning
        (exit 0) or exit 2 under --fail-closed."""
        env = dict(os.environ, HOOKBUS_PUBLISHER=self.pub.ipc_endpoint)
        r = self.hook("poststart", state_json("e1"), endpoint=False, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.event()[0], "EVENT STATE CONTAINER/POSTSTART//e1 ")
        conf = os.path.join(self.dir, "hm-publisher.conf")
        with open(conf, "w") as f:
            f.write('COMMAND_ENDPOINT = "%s"\n' % self.pub.cmd_endpoint)
        env = {k: v for k, v in os.environ.items() if k != "HOOKBUS_PUBLISHER"}
        r = self.hook("poststart", state_json("e2"), "-c", conf, endpoint=False, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.event()[0], "EVENT STATE CONTAINER/POSTSTART//e2 ")
        r = self.hook("poststart", state_json("e3"), "-c", conf + ".missing", endpoint=False, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning", r.stderr.decode())
        r = self.hook("poststart", state_json("e3"), "-c", conf + ".missing", "--fail-closed", endpoint=False, env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.no_event()


class BusDownTest(DaemonTest):
    def test_fail_open_and_fail_closed(self):
        """With nothing listening on the endpoint, oci-hook warns and exits 0 after --timeout, or exits 3
        under --fail-closed."""
        endpoint = "tcp://127.0.0.1:%d" % free_port()
        argv = [HM_PUBLISHER, "oci-hook", "createRuntime", "--endpoint", endpoint, "--timeout", "200"]
        r = subprocess.run(argv, input=state_json("d1").encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("warning: CREATE_RUNTIME event of container d1 not published", err)
        self.assertIn("no answer from %s" % endpoint, err)
        r = subprocess.run(argv + ["--fail-closed"], input=state_json("d1").encode(), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("the container is refused", r.stderr.decode())


# --- install-oci-hook ---------------------------------------------------------------------------

def load_schema():
    with open(SCHEMA) as f:
        return json.load(f)


class InstallTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.hooks_dir = os.path.join(self.dir, "hooks.d")
        self.schema = load_schema()
        jsonschema.Draft7Validator.check_schema(self.schema)

    def install(self, *args, code=0):
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook", "--hooks-dir", self.hooks_dir] + list(args),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, code, r.stderr)
        return r

    def descriptor(self, name):
        path = os.path.join(self.hooks_dir, name)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o644, path)
        with open(path) as f:
            d = json.load(f)
        jsonschema.validate(d, self.schema)
        return d

    def files(self):
        return sorted(os.listdir(self.hooks_dir))

    def test_schema_rejects_what_runtimes_reject(self):
        """The schema itself: a descriptor without when/stages, with an empty when, a relative path, an
        unknown stage or a zero timeout is invalid."""
        good = {"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": True}, "stages": ["poststop"]}
        jsonschema.validate(good, self.schema)
        for bad in ({k: v for k, v in good.items() if k != "when"}, {k: v for k, v in good.items() if k != "stages"},
                    dict(good, when={}), dict(good, hook={"path": "true"}), dict(good, stages=["prestop"]),
                    dict(good, hook={"path": "/bin/true", "timeout": 0}), dict(good, version="0.1.0")):
            with self.assertRaises(jsonschema.ValidationError, msg=repr(bad)):
                jsonschema.validate(bad, self.schema)

    def test_default_descriptors(self):
        """Without options: one descriptor per default stage (createRuntime, poststart, poststop), mode 0644,
        valid against the hooks.d 1.0.0 schema, `when: always`, running this binary's oci-hook STAGE."""
        r = self.install()
        names = ["hookbus-createRuntime.json", "hookbus-poststart.json", "hookbus-poststop.json"]
        self.assertEqual(self.files(), names)
        self.assertEqual(r.stdout.split(), [w for n in names for w in ("wrote", os.path.join(self.hooks_dir, n))])
        for name, stage in zip(names, ("createRuntime", "poststart", "poststop")):
            d = self.descriptor(name)
            self.assertEqual(d, {"version": "1.0.0",
                                 "hook": {"path": os.path.realpath(HM_PUBLISHER),
                                          "args": ["hm-publisher", "oci-hook", stage]},
                                 "when": {"always": True}, "stages": [stage]})

    def test_conditions_and_options(self):
        """Conditions go into `when` (no `always`), --timeout into hook.timeout (and a shorter ACK wait for
        oci-hook), --fail-closed and --endpoint into the hook's args; stages in OCI spelling."""
        self.install("--stage", "CREATE_RUNTIME", "--stage", "PostStop", "--stage", "createRuntime", "--name", "hb",
                     "--annotation", r"^io\.hookbus\.watch$=^(yes|true)$", "--annotation", "team=.*",
                     "--command", ".*/nginx$", "--command", "^/bin/sh$", "--has-bind-mounts", "--timeout", "2",
                     "--fail-closed", "--endpoint", "ipc:///run/hookbus/publisher.sock")
        self.assertEqual(self.files(), ["hb-createRuntime.json", "hb-poststop.json"])
        d = self.descriptor("hb-poststop.json")
        self.assertEqual(d["stages"], ["poststop"])
        self.assertEqual(d["when"], {"annotations": {r"^io\.hookbus\.watch$": "^(yes|true)$", "team": ".*"},
                                     "commands": [".*/nginx$", "^/bin/sh$"], "hasBindMounts": True})
        self.assertEqual(d["hook"]["timeout"], 2)
        self.assertEqual(d["hook"]["args"], ["hm-publisher", "oci-hook", "poststop", "--endpoint",
                                             "ipc:///run/hookbus/publisher.sock", "--timeout", "1000",
                                             "--fail-closed"])
        self.install("--timeout", "30", "--stage", "poststart")
        self.assertEqual(self.descriptor("hookbus-poststart.json")["hook"]["args"],
                         ["hm-publisher", "oci-hook", "poststart"])

    def test_descriptor_hook_runs(self):
        """The hook a descriptor names, run as a runtime runs it (path, args, state on stdin), publishes
        the event."""
        pub = self.publisher()
        sub = self.subscriber(pub, ("EVENT API hookbus.test.probe", "EVENT STATE CONTAINER/"))
        settle_subscription(pub, sub)
        self.install("--stage", "poststop", "--endpoint", pub.cmd_endpoint)
        hook = self.descriptor("hookbus-poststop.json")["hook"]
        r = subprocess.run(hook["args"], executable=hook["path"], input=state_json("run1").encode(),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = wait_for(lambda: (lambda x: x if x and x[0].startswith(b"EVENT STATE CONTAINER/") else None)(sub.recv(200)),
                     what="the descriptor's hook to publish")
        self.assertEqual(m[0], b"EVENT STATE CONTAINER/POSTSTOP//run1 ")

    def test_atomic_rewrite_and_uninstall(self):
        """Installing again replaces each file by a rename (new inode, never a partial file, no temporary
        left behind) and removes the stages no longer asked for; --uninstall removes NAME's descriptors
        only, is idempotent, and --stage limits it."""
        os.makedirs(self.hooks_dir)
        other = os.path.join(self.hooks_dir, "00-other.json")
        with open(other, "w") as f:
            f.write("{}")
        self.install()
        before = os.stat(os.path.join(self.hooks_dir, "hookbus-poststop.json")).st_ino
        self.install("--stage", "poststop", "--stage", "startContainer", "--command", "sh")
        self.assertEqual(self.files(), ["00-other.json", "hookbus-poststop.json", "hookbus-startContainer.json"])
        self.assertNotEqual(os.stat(os.path.join(self.hooks_dir, "hookbus-poststop.json")).st_ino, before)
        self.assertEqual(self.descriptor("hookbus-poststop.json")["when"], {"commands": ["sh"]})
        self.install("--name", "second")
        self.install("--uninstall", "--stage", "poststop")
        self.assertEqual(self.files(), ["00-other.json", "hookbus-startContainer.json", "second-createRuntime.json",
                                        "second-poststart.json", "second-poststop.json"])
        r = self.install("--uninstall")
        self.assertEqual(r.stdout.split(), ["removed", os.path.join(self.hooks_dir, "hookbus-startContainer.json")])
        self.install("--uninstall")
        self.install("--uninstall", "--name", "second")
        self.assertEqual(self.files(), ["00-other.json"])

    def test_failed_install(self):
        """A hooks dir that is a file, or a descriptor path taken by a directory, is exit 1 with the reason,
        and no temporary file is left behind."""
        path = os.path.join(self.dir, "file")
        with open(path, "w") as f:
            f.write("x")
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook", "--hooks-dir", path],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("install-oci-hook: ", r.stderr)
        self.install()
        taken = os.path.join(self.hooks_dir, "hookbus-poststop.json")
        os.unlink(taken)
        os.makedirs(os.path.join(taken, "sub"))
        r = self.install(code=1)
        self.assertIn("cannot rename", r.stderr)
        self.assertEqual([f for f in self.files() if f.startswith(".")], [], "temporary files left behind")
        self.assertTrue(os.path.isdir(taken))

    def test_bad_arguments(self):
        """Bad arguments exit 2 and write nothing."""
        for args in (["--stage", "prestop"], ["--annotation", "novalue"], ["--annotation", "=v"], ["--annotation", "k="], ["--annotation", "[=x"],
                     ["--annotation", "k=("], ["--command", "a{1"], ["--name", "a/b"], ["--name", ".hidden"],
                     ["--timeout", "0"], ["--timeout", "x"], ["--uninstall", "--command", "x"], ["--wat"], ["extra"]):
            self.install(*args, code=2)
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--hooks-dir", r.stderr)
        self.assertFalse(os.path.exists(self.hooks_dir))


# --- runc ---------------------------------------------------------------------------------------



@unittest.skipUnless(os.geteuid() == 0, "runc tests need root (they run real containers)")
class RuncTest(RuncCase):
    """Real containers: runc runs a busybox bundle whose hooks call oci-hook."""

    def test_hem_runs_container_state_hooks(self):
        """runc calls oci-hook at createRuntime, poststart and poststop; hem's CONTAINER/POSTSTOP and
        CONTAINER/CREATE_RUNTIME state hooks run with the container document (id, annotations, pid, bundle,
        process args) as $TEMPLATE."""
        pub = self.publisher()
        hem, records = OciCase.recorder_hem(self, pub)
        for name, state in (("on-stop", "POSTSTOP"), ("on-create", "CREATE_RUNTIME")):
            hem.allocate("NAME = %s\nTYPE = state\nRESOURCE = CONTAINER\nON = CUSTOM\nSTATE = %s\n"
                         "COMMAND = rec.py\nARGUMENTS = \"$TEMPLATE %s\"\n" % (name, state, name))
        ep = pub.cmd_endpoint
        self.configure({"createRuntime": [self.oci_hook("createRuntime", "--endpoint", ep)],
                        "poststart": [self.oci_hook("poststart", "--endpoint", ep)],
                        "poststop": [self.oci_hook("poststop", "--endpoint", ep, "--fail-closed")]},
                       {"org.example.team": "blue", "org.example.note": "<a & b>"})
        cid, r = self.run_container()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "oci-hook warned: " + r.stderr)
        self.assertTrue(self.ran())
        recs = wait_for(lambda: len(records()) >= 2 and records(), WAIT, "both hem hooks to run")
        by = {r["argv"][1]: r for r in recs}
        self.assertEqual(sorted(by), ["on-create", "on-stop"])
        stop = ET.fromstring(base64.b64decode(by["on-stop"]["argv"][0]))
        self.assertEqual(by["on-stop"]["key"], "EVENT STATE CONTAINER/POSTSTOP//%s " % cid)
        self.assertEqual((stop.tag, stop.findtext("ID"), stop.findtext("STAGE"), stop.findtext("STATUS")),
                         ("CONTAINER", cid, "poststop", "stopped"))
        self.assertEqual({a.findtext("KEY"): a.findtext("VALUE") for a in stop.findall("ANNOTATIONS/ANNOTATION")},
                         {"org.example.team": "blue", "org.example.note": "<a & b>"})
        create = ET.fromstring(base64.b64decode(by["on-create"]["argv"][0]))
        self.assertEqual((create.findtext("ID"), create.findtext("STAGE"), create.findtext("BUNDLE")),
                         (cid, "createRuntime", self.bundle))
        self.assertTrue(int(create.findtext("PID")) > 0)
        self.assertEqual([a.text for a in create.findall("PROCESS/ARGS/ARG")], ["/bin/sh", "-c", "echo ran > /out/ran"])
        self.assertEqual(create.findtext("ROOT/PATH"), "rootfs")
        self.assertIn("/out", [m.findtext("DESTINATION") for m in create.findall("MOUNTS/MOUNT")])
        # The poststart event was published too (hem has no hook for it): three events for this container.
        replay = request(pub.cmd_endpoint, ["REPLAY 1"])
        states = sorted({base64.b64decode(c).split(b"<STATE>")[1].split(b"<")[0].decode()
                         for k, c in zip(replay[1::2], replay[2::2]) if k.startswith(b"EVENT STATE CONTAINER/")})
        self.assertEqual(states, ["CREATE_RUNTIME", "POSTSTART", "POSTSTOP"])

    def test_bus_down_fail_open(self):
        """With nothing on the endpoint, the container still runs: each hook warns and exits 0."""
        ep = "tcp://127.0.0.1:%d" % free_port()
        self.configure({s: [self.oci_hook(s, "--endpoint", ep, "--timeout", "200")]
                        for s in ("createRuntime", "poststart", "poststop")})
        cid, r = self.run_container()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.ran(), "the container did not run")

    def test_bus_down_fail_closed(self):
        """With nothing on the endpoint and --fail-closed, runc refuses the container: `runc run` exits
        non-zero, the container's command never runs and no container is left."""
        ep = "tcp://127.0.0.1:%d" % free_port()
        self.configure({"createRuntime": [self.oci_hook("createRuntime", "--endpoint", ep, "--timeout", "200",
                                                        "--fail-closed")]})
        cid, r = self.run_container()
        self.assertNotEqual(r.returncode, 0, "runc ran the container although its hook failed")
        self.assertIn("the container is refused", r.stderr)
        self.assertFalse(self.ran(), "the container's command ran")

    def test_installed_descriptor_runs_under_runc(self):
        """The descriptors of install-oci-hook, injected into config.json as podman and CRI-O inject them
        (hook object appended to hooks[stage]), publish each stage's event."""
        pub = self.publisher()
        sub = self.subscriber(pub, ("EVENT API hookbus.test.probe", "EVENT STATE CONTAINER/"))
        settle_subscription(pub, sub)
        hooks_dir = os.path.join(self.dir, "hooks.d")
        r = subprocess.run([HM_PUBLISHER, "install-oci-hook", "--hooks-dir", hooks_dir, "--endpoint", pub.cmd_endpoint,
                            "--timeout", "10", "--annotation", "^org\\.example\\.watch$=^yes$"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        hooks = {}
        schema = load_schema()
        for name in sorted(os.listdir(hooks_dir)):
            with open(os.path.join(hooks_dir, name)) as f:
                d = json.load(f)
            jsonschema.validate(d, schema)
            for stage in d["stages"]:
                hooks.setdefault(stage, []).append(d["hook"])
        self.configure(hooks, {"org.example.watch": "yes"})
        cid, r = self.run_container()
        self.assertEqual(r.returncode, 0, r.stderr)
        keys = []
        while len(keys) < 3:
            m = sub.recv(timeout_ms=int(WAIT * 1000))
            self.assertIsNotNone(m, "got only %r" % keys)
            if m[0].startswith(b"EVENT STATE CONTAINER/"):
                keys.append(m[0].decode())
        self.assertEqual(keys, ["EVENT STATE CONTAINER/%s//%s " % (s, cid)
                                for s in ("CREATE_RUNTIME", "POSTSTART", "POSTSTOP")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
