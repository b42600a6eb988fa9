"""test_metrics.py -- proves both daemons serve Prometheus metrics at METRICS_LISTEN: the text
exposition parses (TYPE and HELP of every family, conventional names, cumulative histogram
buckets), and after real events and hook runs each counter and gauge has moved by exactly what
happened (events received, published, rejected; journal; replays; executions by hook and result,
durations, timeouts, queue depth, running hooks, dropped bus messages)."""
import os
import re
import sys
import urllib.error
import urllib.request

import zmq

sys.path.insert(0, os.path.dirname(__file__))
from harness import (RESOURCES, DaemonTest, api_xml, b64, free_port, request, vm_xml,  # noqa: E402
                     wait_for)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text):
    """Parses the text format into {family: {"type", "help", "samples": {(name, labels): value}}},
    failing on anything the format does not allow."""
    families, current = {}, None
    assert text.endswith("\n"), "exposition must end with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert help_text, "HELP without text: " + line
            current = families.setdefault(name, {"samples": {}})
            assert "help" not in current, "second HELP for " + name
            current["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            fam = families.setdefault(name, {"samples": {}})
            assert "type" not in fam and not fam["samples"], "TYPE after samples or twice: " + line
            fam["type"] = kind
            current = fam
        elif line.startswith("#") or not line:
            continue
        else:
            m = SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            name, labels_text, value = m.groups()
            labels = []
            if labels_text:
                pos = 0
                while pos < len(labels_text):
                    lm = LABEL.match(labels_text, pos)
                    assert lm, "bad labels in %r" % line
                    labels.append((lm.group(1), lm.group(2)))
                    pos = lm.end()
            family = name
            if current and current.get("type") == "histogram":
                family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert current is not None and family in families and families[family] is current, \
                "sample %s outside its family's block" % name
            key = (name, tuple(sorted(labels)))
            assert key not in current["samples"], "duplicate sample " + line
            current["samples"][key] = float(value)
    for name, fam in families.items():
        assert "type" in fam and "help" in fam, name + " lacks TYPE or HELP"
        assert re.fullmatch(r"hookbus_(publisher|hem)_[a-z_]+", name), "unconventional name " + name
        if fam["type"] == "counter":
            assert name.endswith("_total"), "counter without _total: " + name
        else:
            assert not name.endswith("_total"), name
        if fam["type"] == "histogram":
            assert name.endswith("_seconds"), name
            check_histogram(name, fam["samples"])
    return families


def check_histogram(name, samples):
    buckets = sorted(((float(dict(l)["le"]), v) for (n, l), v in samples.items() if n == name + "_bucket"))
    assert buckets and buckets[-1][0] == float("inf"), name + " lacks the +Inf bucket"
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), name + " buckets are not cumulative"
    assert samples[(name + "_count", ())] == buckets[-1][1]


def host_xml(host_id, state):
    return ("<HOOK_MESSAGE><HOOK_TYPE>STATE</HOOK_TYPE><HOOK_OBJECT>HOST</HOOK_OBJECT><STATE>%s</STATE>"
            "<REMOTE_HOST>node%d</REMOTE_HOST><RESOURCE_ID>%d</RESOURCE_ID><HOST><ID>%d</ID></HOST>"
            "</HOOK_MESSAGE>" % (state, host_id, host_id, host_id))


def scrape(listen):
    with urllib.request.urlopen("http://%s/metrics" % listen, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
        return parse_exposition(r.read().decode())


def value(families, name, **labels):
    """The value of one sample (0 when the labelled series does not exist yet)."""
    family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in families else name
    return families[family]["samples"].get((name, tuple(sorted(labels.items()))), 0.0)


class MetricsTest(DaemonTest):
    def setUp(self):
        super().setUp()
        self.pub_listen = "127.0.0.1:%d" % free_port()
        self.hem_listen = "127.0.0.1:%d" % free_port()

    def start(self, hem_extra=(), subscriber_endpoint=None):
        self.pub = self.publisher(extra=["--metrics-listen", self.pub_listen])
        self.h = self.hem(self.pub, extra=["--metrics-listen", self.hem_listen] + list(hem_extra),
                          subscriber_endpoint=subscriber_endpoint)

    def script(self, name, text):
        path = os.path.join(self.h.hook_base_path, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
        return path

    def emit(self, xml):
        reply = request(self.pub.cmd_endpoint, ["EMIT", b64(xml)])
        self.assertTrue(reply[0].startswith(b"ACK "), reply)
        return int(reply[0].split()[1])

    def hem_metric(self, name, **labels):
        return value(scrape(self.hem_listen), name, **labels)

    def wait_hem(self, name, expected, **labels):
        wait_for(lambda: self.hem_metric(name, **labels) == expected,
                 what="%s%r == %r (last %r)" % (name, labels, expected, self.hem_metric(name, **labels)))

    def test_publisher_counts_events_rejections_journal_and_replays(self):
        self.start()
        before = scrape(self.pub_listen)
        for i in range(3):
            self.emit(api_xml("one.vm.allocate"))
        for i in range(2):
            self.emit(vm_xml(i, "ACTIVE", "RUNNING"))
        bad = request(self.pub.cmd_endpoint, ["EMIT", b64("<HOOK_MESSAGE><HOOK_TYPE>NOPE</HOOK_TYPE></HOOK_MESSAGE>")])
        self.assertTrue(bad[0].startswith(b"ERROR"), bad)
        bad = request(self.pub.cmd_endpoint, ["FROBNICATE"])
        self.assertTrue(bad[0].startswith(b"ERROR"), bad)
        replay = request(self.pub.cmd_endpoint, ["REPLAY 1"])
        self.assertTrue(replay[0].startswith(b"BATCH "), replay)
        after = scrape(self.pub_listen)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)
        self.assertEqual(delta("hookbus_publisher_events_received_total", type="api"), 3)
        self.assertEqual(delta("hookbus_publisher_events_received_total", type="state"), 2)
        self.assertEqual(delta("hookbus_publisher_events_published_total", type="api"), 3)
        self.assertEqual(delta("hookbus_publisher_events_published_total", type="state"), 2)
        self.assertEqual(delta("hookbus_publisher_events_rejected_total", reason="invalid"), 1)
        self.assertEqual(delta("hookbus_publisher_events_rejected_total", reason="protocol"), 1)
        self.assertGreaterEqual(delta("hookbus_publisher_replays_served_total"), 1)
        # One REQ client: each EMIT is a group of its own, synced by the loop with nothing to overlap.
        self.assertEqual(delta("hookbus_publisher_journal_syncs_total", overlapped="false"), 5)
        self.assertEqual(delta("hookbus_publisher_journal_syncs_total", overlapped="true"), 0)
        last = value(after, "hookbus_publisher_journal_last_seq")
        self.assertEqual(last - value(before, "hookbus_publisher_journal_last_seq"), 5)
        self.assertEqual(value(after, "hookbus_publisher_journal_events"), last)
        self.assertEqual(after["hookbus_publisher_journal_last_seq"]["type"], "gauge")

    def test_hem_counts_executions_durations_timeouts_queue_and_running(self):
        self.start(hem_extra=["--concurrency", "1"])
        release = os.path.join(self.dir, "release")
        self.script("wait.sh", "#!/bin/sh\nwhile [ ! -e \"$1\" ]; do sleep 0.05; done\n")
        ok = self.h.allocate("NAME = ok\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = /bin/true\n")
        fail = self.h.allocate("NAME = fail\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = /bin/false\n")
        slow = self.h.allocate("NAME = slow\nTYPE = state\nRESOURCE = VM\nON = RUNNING\n"
                               "COMMAND = wait.sh\nARGUMENTS = %s\n" % release)
        stuck = self.h.allocate("NAME = stuck\nTYPE = state\nRESOURCE = HOST\nSTATE = ERROR\n"
                                "COMMAND = wait.sh\nARGUMENTS = %s/never\nTIMEOUT = 1\n" % self.dir)
        base = scrape(self.hem_listen)
        self.assertEqual(value(base, "hookbus_hem_events_filtered_total"), 0)
        self.emit(api_xml("one.vm.allocate"))
        self.emit(api_xml("one.vm.allocate", result=0))
        self.wait_hem("hookbus_hem_executions_total", 2, hook=str(ok), result="success")
        self.wait_hem("hookbus_hem_executions_total", 2, hook=str(fail), result="error")

        # Two slow runs with CONCURRENCY 1: one runs, the other waits in the queue until released.
        self.emit(vm_xml(7, "ACTIVE", "RUNNING"))
        self.emit(vm_xml(8, "ACTIVE", "RUNNING"))
        self.wait_hem("hookbus_hem_running_hooks", 1)
        self.wait_hem("hookbus_hem_queued_executions", 1)
        open(release, "w").close()
        self.wait_hem("hookbus_hem_executions_total", 2, hook=str(slow), result="success")
        self.wait_hem("hookbus_hem_running_hooks", 0)
        self.wait_hem("hookbus_hem_queued_executions", 0)

        # A FILTER that is false: counted as filtered, no execution.
        picky = self.h.allocate('NAME = picky\nTYPE = api\nCALL = one.image.delete\nCOMMAND = /bin/true\n'
                                'FILTER = "/HOOK_MESSAGE/CALL_INFO/RESULT = 1"\n')
        self.emit(api_xml("one.image.delete", result=0))
        self.wait_hem("hookbus_hem_events_filtered_total", 1)
        self.emit(api_xml("one.image.delete", result=1))
        self.wait_hem("hookbus_hem_executions_total", 1, hook=str(picky), result="success")
        self.assertEqual(self.hem_metric("hookbus_hem_events_filtered_total"), 1)

        # A hook that never ends on its own is stopped at its TIMEOUT.
        self.emit(host_xml(3, "ERROR"))
        self.wait_hem("hookbus_hem_execution_timeouts_total", 1)
        self.wait_hem("hookbus_hem_executions_total", 1, hook=str(stuck), result="error")

        m = scrape(self.hem_listen)
        self.assertEqual(value(m, "hookbus_hem_events_received_total") -
                         value(base, "hookbus_hem_events_received_total"), 7)
        self.assertEqual(value(m, "hookbus_hem_execution_duration_seconds_count") -
                         value(base, "hookbus_hem_execution_duration_seconds_count"), 8)
        # The timed-out run lasted at least its TIMEOUT of one second, so it is in no bucket below.
        self.assertGreaterEqual(value(m, "hookbus_hem_execution_duration_seconds_sum"), 1.0)
        self.assertLessEqual(value(m, "hookbus_hem_execution_duration_seconds_bucket", le="0.5"), 7)
        self.assertEqual(value(m, "hookbus_hem_execution_duration_seconds_bucket", le="+Inf"), 8)
        self.assertEqual(value(m, "hookbus_hem_last_seq"), self.h.last_seq())
        self.assertGreaterEqual(value(m, "hookbus_hem_replays_requested_total"), 1)
        self.assertEqual(m["hookbus_hem_executions_total"]["type"], "counter")
        self.assertEqual(m["hookbus_hem_execution_duration_seconds"]["type"], "histogram")
        self.assertEqual(m["hookbus_hem_queued_executions"]["type"], "gauge")

    def test_hem_counts_dropped_bus_messages(self):
        ctx = zmq.Context.instance()
        fake = ctx.socket(zmq.PUB)
        fake.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(fake.close)
        port = fake.bind_to_random_port("tcp://127.0.0.1")
        self.start(subscriber_endpoint="tcp://127.0.0.1:%d" % port)
        self.h.allocate("NAME = ok\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = /bin/true\n")

        def dropped():
            fake.send_multipart([b"EVENT API one.vm.allocate 1", b"%%% not base64 %%%"])
            return self.hem_metric("hookbus_hem_events_dropped_total") >= 1
        wait_for(dropped, what="hem to count a bad bus message as dropped")
        self.assertTrue(self.h.alive())
        self.assertEqual(self.hem_metric("hookbus_hem_events_received_total"), 0)

    def test_unknown_path_is_404_and_bad_listen_is_refused(self):
        self.start()
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://%s/other" % self.hem_listen, timeout=10)
        self.assertEqual(e.exception.code, 404)
        for prog, args in ((self.h.argv()[0], ["--resources", RESOURCES]), (self.pub.argv()[0], ["serve"])):
            r = self.run_cmd([prog] + args + ["--check-config", "--metrics-listen", "localhost"])
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("METRICS_LISTEN", r.stderr)
        # A port that is taken: the daemon says so and does not start.
        r = self.run_cmd(self.pub.argv()[:1] + ["serve", "--publisher-endpoint", "tcp://127.0.0.1:%d" % free_port(),
                                                "--command-endpoint", "tcp://127.0.0.1:%d" % free_port(),
                                                "--journal", os.path.join(self.dir, "j2.db"),
                                                "--metrics-listen", self.pub_listen])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("cannot serve metrics on " + self.pub_listen, r.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
