"""test_examples.py -- proves the shipped examples work: each example template is created through
hookctl against a real hem (so the templates stay valid), and each example hook runs on a real
event: the syslog hook calls its logger with the VM's new state, the webhook hook POSTs the right
JSON to a local HTTP server, and the container policy flags a uid 0 container and allows others."""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import unittest
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(__file__))
from harness import BUILD, SOURCE, DaemonTest, b64, request, vm_xml, wait_for  # noqa: E402

HOOKCTL = os.path.join(BUILD, "cli", "hookctl")
EXAMPLES = os.path.join(SOURCE, "examples")
HOOKS = {"vm-state-syslog": "vm-state-syslog", "host-error-webhook": "host-error-webhook",
         "container-policy": "container-policy"}


def state_xml(obj, obj_id, state, doc, remote_host="node1"):
    return ("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>%s</HOOK_OBJECT><STATE>%s</STATE>"
            "<REMOTE_HOST>%s</REMOTE_HOST><RESOURCE_ID>%s</RESOURCE_ID>%s</HOOK_MESSAGE>"
            % (obj, state, remote_host, escape(str(obj_id)), doc)) if obj == "HOST" else \
        ("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>%s</HOOK_OBJECT><STATE>%s</STATE>"
         "<RESOURCE_ID>%s</RESOURCE_ID><REMOTE_HOST>%s</REMOTE_HOST>%s</HOOK_MESSAGE>"
         % (obj, state, escape(str(obj_id)), remote_host, doc))


def container_doc(cid, uid):
    user = "" if uid is None else "<PROCESS><ARGS><ARG>/bin/sh</ARG></ARGS><USER><UID>%d</UID><GID>0</GID>" \
        "<ADDITIONAL_GIDS/></USER></PROCESS>" % uid
    return ("<CONTAINER><OCI_VERSION>1.0.2</OCI_VERSION><ID>%s</ID><STATUS>creating</STATUS>"
            "<BUNDLE>/run/b/%s</BUNDLE><STAGE>createRuntime</STAGE><ANNOTATIONS/>%s</CONTAINER>" % (cid, cid, user))


class Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class ExamplesTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.pub = self.publisher()
        self.h = self.hem(self.pub)
        self.ids = {}
        for d, name in HOOKS.items():
            shutil.copy(os.path.join(EXAMPLES, d, d), os.path.join(self.h.hook_base_path, d))
            os.chmod(os.path.join(self.h.hook_base_path, d), 0o755)
            out = self.hookctl("create", os.path.join(EXAMPLES, d, d + ".tmpl"))
            self.ids[d] = int(re.fullmatch(r"ID: (\d+)\n", out).group(1))
        names = {h.findtext("NAME") for h in self.h.pool().iter("HOOK")}
        self.assertEqual(names, set(HOOKS.values()))

    def hookctl(self, *args, stdin=None):
        r = subprocess.run([HOOKCTL, "--endpoint", self.h.control_endpoint] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def emit(self, xml):
        reply = request(self.pub.cmd_endpoint, ["EMIT", b64(xml)])
        self.assertTrue(reply[0].startswith(b"ACK "), reply)

    def finished(self, hook_id, n):
        return wait_for(lambda: (lambda rows: rows if len(rows) == n else None)(
            self.h.db("SELECT code, stdout, stderr FROM hook_log WHERE hook_id = ? AND state IN "
                      "('SUCCESS', 'ERROR') ORDER BY exec_id", (hook_id,))), what="%d runs of hook %d" % (n, hook_id))

    def test_vm_state_syslog_calls_its_logger(self):
        out = os.path.join(self.dir, "logger.out")
        fake = os.path.join(self.dir, "fake-logger")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done > %s\n" % out)
        os.chmod(fake, 0o755)
        self.hookctl("update", str(self.ids["vm-state-syslog"]), "-", "--append",
                     stdin="ARGUMENTS = %s\n" % fake)
        self.emit(vm_xml(42, "ACTIVE", "RUNNING"))
        rows = self.finished(self.ids["vm-state-syslog"], 1)
        self.assertEqual(rows[0][0], 0, rows)
        with open(out) as f:
            argv = f.read().splitlines()
        self.assertEqual(argv[:5], ["-t", "hookbus", "-p", "daemon.notice", "--"])
        self.assertRegex(argv[5], r"^VM 42 is now ACTIVE/RUNNING \(hook vm-state-syslog execution 0, seq \d+\)$")
        # Every state change, whatever its STATE and LCM_STATE, gets its line.
        self.emit(vm_xml(43, "POWEROFF", "LCM_INIT"))
        rows = self.finished(self.ids["vm-state-syslog"], 2)
        self.assertEqual(rows[1][0], 0, rows)
        with open(out) as f:
            self.assertRegex(f.read().splitlines()[5], r"^VM 43 is now POWEROFF/LCM_INIT \(hook vm-state-syslog execution 1,")

    def test_host_error_webhook_posts_json(self):
        Recorder.received = []
        server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.cleanups.append(server.server_close)
        self.cleanups.append(server.shutdown)
        url = "http://127.0.0.1:%d/notify" % server.server_address[1]
        self.hookctl("update", str(self.ids["host-error-webhook"]), "-", "--append",
                     stdin='ARGUMENTS = "%s $TEMPLATE"\n' % url)
        doc = '<HOST><ID>5</ID><NAME>node-5 &amp;lt; &quot;b\\</NAME><VMS><ID>9</ID></VMS></HOST>'
        self.emit(state_xml("HOST", 5, "MONITORED", doc))
        self.emit(state_xml("HOST", 5, "ERROR", doc))
        rows = self.finished(self.ids["host-error-webhook"], 1)
        self.assertEqual(rows[0][0], 0, rows)
        self.assertEqual(len(Recorder.received), 1)
        path, ctype, body = Recorder.received[0]
        self.assertEqual((path, ctype), ("/notify", "application/json"))
        notice = json.loads(body)
        self.assertEqual(notice["event"], "host_error")
        self.assertEqual(notice["host_id"], "5")
        self.assertEqual(notice["host"], 'node-5 &lt; "b\\')
        self.assertEqual(notice["hook"], "host-error-webhook")
        self.assertEqual(notice["execution"], "0")

    def test_container_policy_flags_uid_0(self):
        self.emit(state_xml("CONTAINER", "web-1", "CREATE_RUNTIME", container_doc("web-1", 0)))
        self.emit(state_xml("CONTAINER", "web-2", "CREATE_RUNTIME", container_doc("web-2", 1000)))
        self.emit(state_xml("CONTAINER", "web-3", "CREATE_RUNTIME", container_doc("web-3", None)))
        rows = self.finished(self.ids["container-policy"], 3)
        self.assertEqual([(code, out) for code, out, _ in rows], [
            (1, b"container web-1: process runs as uid 0: flagged\n"),
            (0, b"container web-2: process runs as uid 1000: allowed\n"),
            (1, b"container web-3: no process user in the event: flagged (cannot check)\n")])


if __name__ == "__main__":
    unittest.main(verbosity=2)
