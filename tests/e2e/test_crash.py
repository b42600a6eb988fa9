"""test_crash.py -- proves that no acknowledged event is lost or runs a hook twice when the daemons
crash: hm-publisher SIGKILLed between its journal commit and the publish (the HB_FAULT seam of
lib/fault.h), hem SIGKILLed while hooks run and while its queue is long, both restarted in either
order, and hem.db or the journal full (HB_FAULT=hem_db_max_pages, journal_db_max_pages).

After every scenario: each acknowledged event has exactly one execution record per hook, the hook
itself saw it exactly once (a SUCCESS record) or at most once (an INTERRUPTED record: hem was killed
while it ran; interrupted executions are not re-run, see SECURITY.md), no record is left PENDING or
RUNNING, and `PRAGMA integrity_check` of hem.db and of the journal says ok (sqlite3 CLI)."""
import base64
import os
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from harness import (DaemonTest, Publisher, Subscriber, api_xml, b64, request, settle_subscription,  # noqa: E402
                     wait_for)

WAIT = 60.0
FINAL = ("SUCCESS", "ERROR", "INTERRUPTED")

# Appends "SEQ HOOK_ID EXECUTION_ID" at its start, then takes a short while, so that a kill finds
# hooks running and a queue behind them.
COUNTER = '#!/bin/sh\necho "$HOOK_SEQ $HOOK_ID $HOOK_EXECUTION_ID" >> %s\nsleep 0.05\n'


class FaultPublisher(Publisher):
    """hm-publisher started with HB_FAULT in its environment (None: without)."""

    fault = None

    def start(self):
        env = dict(os.environ)
        env.pop("HB_FAULT", None)
        if self.fault:
            env["HB_FAULT"] = self.fault
        with open(self.out, "ab") as out:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env)
        wait_for(self.ready, what="hm-publisher to answer")
        return self


def integrity(path):
    """The sqlite3 CLI's answer to PRAGMA integrity_check on path."""
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        raise AssertionError("the sqlite3 command-line tool is missing (scripts/setup installs it)")
    r = subprocess.run([sqlite3, path, "PRAGMA integrity_check;"], capture_output=True, text=True, timeout=60)
    return (r.stdout + r.stderr).strip()


class CrashCase(DaemonTest):
    def setUp(self):
        super().setUp()
        self.pub = FaultPublisher(self.dir)
        self.cleanups.append(self.pub.kill)
        self.cleanups.append(self.pub.stop)
        self.pub.start()
        self.h = None
        self.out = os.path.join(self.dir, "hooks.out")
        self.hem_extra = ["--concurrency", "4", "--log-retention", "100000"]

    def start_hem(self, env=None):
        if self.h is None:
            self.h = self.hem(self.pub, self.hem_extra, env)
        else:
            self.h.env = env
            self.h.start()
        return self.h

    def write_hooks(self, n, extra=""):
        """n hooks on one.vm.allocate, each running the counting script; returns their ids."""
        path = os.path.join(self.dir, "hooks", "count.sh")
        with open(path, "w") as f:
            f.write(COUNTER % self.out)
        os.chmod(path, 0o755)
        return [self.h.allocate("NAME = count%d\nTYPE = api\nCALL = one.vm.allocate\nCOMMAND = count.sh\n%s" % (i, extra))
                for i in range(n)]

    def emit(self, timeout_ms=5000):
        """Emits one event; returns its seq when acknowledged, None when no answer came."""
        try:
            rep = request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml("one.vm.allocate"))], timeout_ms)
        except TimeoutError:
            return None
        self.assertTrue(rep[0].startswith(b"ACK "), rep)
        return int(rep[0].split()[1])

    def rows(self, sql, args=()):
        return self.h.db(sql, args)

    def hook_lines(self):
        try:
            with open(self.out) as f:
                return [tuple(int(x) for x in line.split()) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_settled(self, last_seq):
        """Waits until hem has taken every event up to last_seq and nothing is PENDING or RUNNING."""
        wait_for(lambda: self.h.alive() and self.h.last_seq() >= last_seq, WAIT,
                 "hem to take seq %d:\n%s" % (last_seq, self.h.log_text()[-3000:]))
        wait_for(lambda: not self.rows("SELECT 1 FROM hook_log WHERE state NOT IN ('SUCCESS', 'ERROR', "
                                       "'INTERRUPTED')"), WAIT, "every execution to be resolved")

    def check_exactly_once(self, hooks, acked, journaled_extra=()):
        """Every acknowledged event (and every journaled one in journaled_extra) has exactly one record
        per hook; SUCCESS ones ran exactly once, INTERRUPTED ones at most once; both databases pass
        integrity_check."""
        expected = sorted(set(acked) | set(journaled_extra))
        recs = self.rows("SELECT hook_id, exec_id, seq, state FROM hook_log WHERE retry_of IS NULL")
        for hid in hooks:
            seqs = sorted(s for h, _, s, _ in recs if h == hid)
            self.assertEqual(seqs, expected, "hook %d: records per event" % hid)
        self.assertEqual({st for _, _, _, st in recs} - {"SUCCESS", "INTERRUPTED"}, set(), recs)
        counts = {}
        for seq, hid, eid in self.hook_lines():
            counts[(hid, eid)] = counts.get((hid, eid), 0) + 1
        for hid, eid, seq, state in recs:
            n = counts.get((hid, eid), 0)
            if state == "SUCCESS":
                self.assertEqual(n, 1, "hook %d execution %d (seq %d) ran %d times" % (hid, eid, seq, n))
            else:
                self.assertLessEqual(n, 1, "hook %d execution %d (seq %d) ran %d times" % (hid, eid, seq, n))
        self.assertEqual(set(counts) - {(h, e) for h, e, _, _ in recs}, set(), "a hook ran without a record")
        self.assertEqual(integrity(self.h.database), "ok")
        self.assertEqual(integrity(self.pub.journal), "ok")


class PublisherCrashTest(CrashCase):
    def restart_publisher_killed_after_journal(self, order):
        """hm-publisher dies (HB_FAULT) right after journaling an event it never published nor acked;
        restarted (order: 'publisher' alone, 'hem-first' or 'publisher-first' with hem SIGKILLed too),
        the journaled event and every acked one run each hook exactly once."""
        self.start_hem()
        hooks = self.write_hooks(2)
        acked = [self.emit() for _ in range(3)]
        self.pub.stop()
        self.pub.fault = "publisher_kill_after_journal:2"
        self.pub.start()
        acked.append(self.emit())
        self.assertIsNone(self.emit(timeout_ms=3000), "the publisher answered although it was to die")
        self.assertEqual(self.pub.proc.wait(timeout=30), 137, self.pub.log_text())
        journaled = acked[-1] + 1
        self.pub.fault = None
        if order == "publisher":
            self.pub.start()
        else:
            self.h.kill()
            first, second = (self.h, self.pub) if order == "hem-first" else (self.pub, self.h)
            first.start()
            second.start()
        acked += [self.emit() for _ in range(2)]
        self.assertEqual(acked[-2], journaled + 1, "the journaled event kept its sequence number")
        self.wait_settled(acked[-1])
        self.check_exactly_once(hooks, acked, [journaled])

    def test_publisher_killed_between_journal_and_publish(self):
        """SIGKILL-like death of hm-publisher after the journal commit; only the publisher restarts."""
        self.restart_publisher_killed_after_journal("publisher")

    def test_both_down_hem_restarts_first(self):
        """The publisher dies after its journal commit, hem is SIGKILLed too; hem restarts before the
        publisher (its replays fail until the publisher is back)."""
        self.restart_publisher_killed_after_journal("hem-first")

    def test_both_down_publisher_restarts_first(self):
        """The publisher dies after its journal commit, hem is SIGKILLed too; the publisher restarts first."""
        self.restart_publisher_killed_after_journal("publisher-first")


    def test_failed_journal_sync_stops_the_publisher_unacked(self):
        """A sync of the journal that fails (HB_FAULT=journal_sync_fail) leaves what the disk holds
        unknown: hm-publisher acks nothing of that group, says why and exits 1. Restarted, it keeps
        the numbers it acked; the unacked event, committed before the sync, is replayed like one
        journaled by a publisher that died, and every event runs each hook exactly once."""
        self.start_hem()
        hooks = self.write_hooks(2)
        self.pub.stop()
        self.pub.fault = "journal_sync_fail:3"
        self.pub.start()
        acked = [self.emit() for _ in range(2)]
        self.assertIsNone(self.emit(timeout_ms=3000), "the publisher acked an event it could not sync")
        self.assertEqual(self.pub.proc.wait(timeout=30), 1, self.pub.log_text())
        self.assertIn("syncing the journal: Input/output error", self.pub.log_text())
        committed = acked[-1] + 1
        self.pub.fault = None
        self.pub.start()
        acked += [self.emit() for _ in range(2)]
        self.assertEqual(acked[-2], committed + 1, "the acked numbers go on after the committed event")
        self.wait_settled(acked[-1])
        self.check_exactly_once(hooks, acked, [committed])


class HemCrashTest(CrashCase):
    def test_sigkill_hem_repeatedly_while_hooks_run_and_the_queue_is_long(self):
        """A burst of 120 events into 3 hooks at concurrency 4; hem is SIGKILLed three times while
        hooks run and hundreds of executions are queued, the publisher once too, events keep coming
        while hem is down, restarts alternate order: every acked event ran each hook exactly once."""
        self.start_hem()
        hooks = self.write_hooks(3)
        acked = []
        for round_ in range(3):
            acked += [self.emit() for _ in range(40)]
            wait_for(lambda: self.rows("SELECT 1 FROM hook_log WHERE state = 'RUNNING'") and
                     len(self.rows("SELECT 1 FROM hook_log WHERE state = 'PENDING'")) >= 20, WAIT,
                     "hooks running with a queue behind them")
            self.h.kill()
            acked += [self.emit() for _ in range(5)]
            if round_ == 1:
                self.pub.kill()
                self.h.start()
                self.pub.start()
            else:
                self.h.start()
        self.wait_settled(acked[-1])
        self.assertGreaterEqual(len(self.rows("SELECT 1 FROM hook_log WHERE state = 'INTERRUPTED'")), 3,
                                "each kill found a running hook")
        self.check_exactly_once(hooks, acked)


class DiskFullTest(CrashCase):
    def test_full_hem_db_loses_nothing(self):
        """hem.db capped a few pages above its size (HB_FAULT=hem_db_max_pages) fills up under a burst:
        hem stays alive and answers its control endpoint, records nothing half-way, and after a restart
        with room every acked event runs each hook exactly once."""
        self.start_hem()
        hooks = self.write_hooks(2, 'ARGUMENTS = "$API"\n')
        self.h.stop()
        pages = int(subprocess.run(["sqlite3", self.h.database, "PRAGMA page_count;"], capture_output=True,
                                   text=True, timeout=30).stdout.strip())
        self.start_hem(env=dict(os.environ, HB_FAULT="hem_db_max_pages:%d" % (pages + 4)))
        big = "x" * 3000   # each record keeps its arguments: a few events fill four pages
        acked = []
        for _ in range(30):
            rep = request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml("one.vm.allocate", params=("****", big)))])
            acked.append(int(rep[0].split()[1]))
        wait_for(lambda: "full" in self.h.log_text(), WAIT, "hem to hit the full database")
        self.assertTrue(self.h.alive(), self.h.out_text())
        self.assertEqual(self.h.control("POOL")[0], "OK")
        self.assertLess(self.h.last_seq(), acked[-1], "the cap did not fill the database")
        self.h.stop()
        self.start_hem(env=dict(os.environ))
        acked.append(self.emit())
        self.wait_settled(acked[-1])
        self.check_exactly_once(hooks, acked)

    def test_full_journal_refuses_whole_groups_and_uses_no_sequence_number(self):
        """The journal capped a few pages above its size (HB_FAULT=journal_db_max_pages, retention 1)
        cannot take two of a burst's large EMITs: each group that does not fit, checked and encoded
        by the publisher's threads, is answered ERROR journal failure, is neither journaled nor
        published, and uses no sequence number; the publisher goes on, and the next EMIT that fits
        is acked with the number after the last one acked."""
        import zmq
        self.pub.stop()
        pages = int(subprocess.run(["sqlite3", self.pub.journal, "PRAGMA page_count;"], capture_output=True,
                                   text=True, timeout=30).stdout.strip())
        self.pub.fault = "journal_db_max_pages:%d" % (pages + 12)
        self.pub.extra += ["--journal-retention", "1"]
        self.pub.start()
        sub = Subscriber(self.pub.pub_endpoint)
        self.cleanups.append(sub.close)
        settle_subscription(self.pub, sub)
        head = int(request(self.pub.cmd_endpoint, ["REPLAY 999999"])[0].split()[3])
        big = b64(api_xml("one.vm.allocate", params=("y" * 20000,))).encode()   # about 7 pages each
        s = zmq.Context.instance().socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        self.cleanups.append(s.close)
        s.connect(self.pub.cmd_endpoint)
        for _ in range(64):
            s.send_multipart([b"", b"EMIT", big])
        replies = []
        for _ in range(64):
            self.assertTrue(s.poll(10000), "a reply for every EMIT")
            replies.append(s.recv_multipart()[1].decode())
        acked = [int(r.split()[1]) for r in replies if r.startswith("ACK ")]
        refused = [r for r in replies if not r.startswith("ACK ")]
        self.assertTrue(refused, "the cap did not fill the journal")
        for r in refused:
            self.assertTrue(r.startswith("ERROR journal failure: "), r)
        self.assertEqual(acked, list(range(head + 1, head + 1 + len(acked))), "no number used by a refused group")
        published = set()
        while True:
            m = sub.recv(timeout_ms=500)
            if m is None:
                break
            published.add(int(ET.fromstring(base64.b64decode(m[1])).findtext("SEQ")))
        self.assertEqual(published, set(acked), "exactly the acked EMITs were published")
        rep = request(self.pub.cmd_endpoint, ["EMIT", b64(api_xml("one.vm.small"))])
        self.assertEqual(rep[0].decode(), "ACK %d" % (head + 1 + len(acked)), self.pub.log_text()[-2000:])
        self.pub.stop()
        self.assertEqual(integrity(self.pub.journal), "ok")


if __name__ == "__main__":
    unittest.main(verbosity=2)
