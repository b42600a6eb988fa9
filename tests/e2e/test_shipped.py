"""test_shipped.py -- proves the shipped systemd units and man pages are valid: systemd-analyze
verify (or a parse when it is missing) on both units, no groff warnings on any man page, and every
config key of both daemons and every hook attribute documented in hookbus-templates(5)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("HB_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE = os.environ.get("HB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = {"hm-publisher.service": os.path.join(BUILD, "hm-publisher", "hm-publisher"),
         "hem.service": os.path.join(BUILD, "hem", "hem")}
MAN = ["hm-publisher.8", "hem.8", "hookctl.1", "hookbus-templates.5"]


def unit_sections(text):
    """Parses a unit file into {section: {key: [values]}} (keys may repeat)."""
    sections, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.fullmatch(r"\[([A-Za-z]+)\]", line)
        if m:
            cur = sections.setdefault(m.group(1), {})
            continue
        key, sep, value = line.partition("=")
        if cur is None or not sep or not re.fullmatch(r"[A-Za-z]+", key):
            raise AssertionError("not a unit file line: %r" % line)
        cur.setdefault(key, []).append(value)
    return sections


class UnitTest(unittest.TestCase):
    def units(self):
        out = {}
        for name in UNITS:
            with open(os.path.join(BUILD, "systemd", name)) as f:
                out[name] = f.read()
        return out

    def test_units_verify(self):
        d = tempfile.mkdtemp(prefix="hookbus-units-")
        try:
            for name, text in self.units().items():
                # The units name the installed programs; point them at the built ones so that
                # verify's check of ExecStart's executable means something here.
                exe = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
                self.assertTrue(exe.endswith("/" + os.path.basename(UNITS[name])), exe)
                with open(os.path.join(d, name), "w") as f:
                    f.write(text.replace("ExecStart=" + exe, "ExecStart=" + os.path.abspath(UNITS[name])))
            if shutil.which("systemd-analyze") is None:
                self.skipTest("systemd-analyze is not installed; test_units_parse still checks the units")
            r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + list(UNITS), cwd=d,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stderr.strip(), "", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_units_parse(self):
        units = {name: unit_sections(text) for name, text in self.units().items()}
        for name, u in units.items():
            svc = u["Service"]
            self.assertEqual(svc["Type"], ["notify"], name)
            self.assertEqual(svc["Restart"], ["on-failure"], name)
            self.assertIn("hookbus", svc["RuntimeDirectory"][0].split(), name)
            self.assertEqual(svc["RuntimeDirectoryMode"], ["0750"], name)
            self.assertEqual(svc["RuntimeDirectoryPreserve"], ["yes"], name)
            self.assertIn("hookbus", svc["StateDirectory"][0].split(), name)
            self.assertEqual(svc["User"], ["hookbus"], name)
            self.assertTrue(svc["ExecReload"][0].endswith("kill -HUP $MAINPID"), name)
            self.assertEqual(u["Install"]["WantedBy"], ["multi-user.target"], name)
        hem = units["hem.service"]
        self.assertIn("hm-publisher.service", hem["Unit"]["After"][0].split())
        self.assertIn("hm-publisher.service", hem["Unit"]["Wants"][0].split())
        self.assertEqual(hem["Service"]["KillMode"], ["mixed"])
        self.assertIn("-c /etc/hookbus/hem.conf", hem["Service"]["ExecStart"][0])
        # Hooks may sudo: nothing in hem's unit may forbid gaining privileges.
        for key in ("NoNewPrivileges", "RestrictSUIDSGID", "CapabilityBoundingSet"):
            self.assertNotIn(key, hem["Service"])
        self.assertEqual(units["hm-publisher.service"]["Service"]["NoNewPrivileges"], ["yes"])


class InstallTest(unittest.TestCase):
    def install(self, destdir, prefix):
        env = dict(os.environ, DESTDIR=destdir)
        r = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], capture_output=True, text=True,
                           timeout=120, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r.stdout

    def test_cmake_install_places_files_and_keeps_edited_configs(self):
        d = tempfile.mkdtemp(prefix="hookbus-install-")
        try:
            self.install(d, "/opt/hb")
            root = lambda p: os.path.join(d, p.lstrip("/"))  # noqa: E731
            for path in ("/opt/hb/bin/hm-publisher", "/opt/hb/bin/hookctl", "/opt/hb/sbin/hem",
                         "/opt/hb/share/man/man5/hookbus-templates.5", "/opt/hb/share/man/man8/hem.8",
                         "/opt/hb/share/hookbus/schema/hook_message.xsd",
                         "/opt/hb/share/doc/hookbus/examples/container-policy/container-policy",
                         "/etc/hookbus/hem.conf", "/etc/hookbus/hm-publisher.conf", "/etc/hookbus/resources.conf"):
                self.assertTrue(os.path.isfile(root(path)), path)
            self.assertTrue(os.access(root("/opt/hb/share/doc/hookbus/examples/container-policy/container-policy"),
                                      os.X_OK))
            units = [u for u in ("hm-publisher.service", "hem.service")
                     if any(os.path.isfile(os.path.join(dp, u)) for dp, _, _ in os.walk(d))]
            self.assertEqual(len(units), 2)
            unit = next(os.path.join(dp, "hem.service") for dp, _, fs in os.walk(d) if "hem.service" in fs)
            with open(unit) as f:
                # The unit names the programs where this install put them.
                self.assertIn("ExecStart=/opt/hb/sbin/hem -c /etc/hookbus/hem.conf", f.read())
            with open(root("/etc/hookbus/hem.conf"), "a") as f:
                f.write("# edited by the operator\n")
            out = self.install(d, "/opt/hb")
            self.assertIn("Keeping: ", out)
            with open(root("/etc/hookbus/hem.conf")) as f:
                self.assertIn("# edited by the operator", f.read())
        finally:
            shutil.rmtree(d, ignore_errors=True)


def config_keys(path, table):
    with open(os.path.join(SOURCE, path)) as f:
        src = f.read()
    body = src[src.index(table):]
    body = body[:body.index("{ NULL")]
    return re.findall(r'\{ "([A-Z_]+)",', body)


class ManTest(unittest.TestCase):
    def test_no_warnings(self):
        for page in MAN:
            path = os.path.join(SOURCE, "man", page)
            if shutil.which("man"):
                argv = ["man", "--warnings", "-l", path]
            else:
                argv = ["groff", "-man", "-ww", "-z", path]
            env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
            r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 0, page + ": " + r.stderr)
            self.assertEqual(r.stderr.strip(), "", page + ": " + r.stderr)

    def test_templates_page_documents_every_key_and_attribute(self):
        with open(os.path.join(SOURCE, "man", "hookbus-templates.5")) as f:
            page = f.read()
        keys = config_keys("hem/daemon.c", "hb_hem_config_keys[]") + \
            config_keys("hm-publisher/pubkeys.c", "hb_publisher_config_keys[]")
        self.assertIn("CONCURRENCY", keys)
        self.assertIn("JOURNAL_RETENTION", keys)
        for key in keys:
            self.assertRegex(page, r"\.B %s\n" % key, key + " is not documented in hookbus-templates(5)")
        with open(os.path.join(SOURCE, "hem", "hookdef.c")) as f:
            hookdef = f.read()
        tables = re.findall(r"static const char \*const \w*attrs\[\] = \{(.*?)\};", hookdef, re.S)
        attrs = [a for t in tables for a in re.findall(r'"([A-Z_]+)"', t)]
        self.assertIn("ARGUMENTS_STDIN", attrs)
        for a in attrs:
            self.assertRegex(page, r"\.B[RI]? %s\b" % a, a + " is not documented in hookbus-templates(5)")


if __name__ == "__main__":
    unittest.main(verbosity=2)
