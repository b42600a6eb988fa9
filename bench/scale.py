#!/usr/bin/python3
"""scale.py -- benchmark 6: hem with 10,000 hooks and up to 1,000,000 execution records: start-up
time and RSS, `hookctl show` and `hookctl log` latency, the cost of retention per execution as the
log grows (10k, 100k, 1M records: it must stay flat), and hem's RSS under an event storm (it must
stay bounded). Baselines, measured in the same run: an empty hem's start-up and RSS, and the
per-execution cost with an empty log."""
import argparse
import os
import sqlite3
import subprocess
import threading
import time

from common import HOOKCTL, Scratch, api_content, emit_many, machine, percentile, proc_cpu_s, rss_kib, wait_done


def started(h):
    """Starts hem and returns (seconds until it answers on its control endpoint, RSS KiB)."""
    t0 = time.monotonic()
    h.start()
    return time.monotonic() - t0, rss_kib(h.proc.pid)


def seed(db, count, first_hook=0, hooks=1):
    """Inserts count finished records straight into hem.db (hem stopped), spread evenly over hooks
    first_hook .. first_hook + hooks - 1 after each one's last execution, one a second up to now,
    as if they had run every second; with their (empty) inputs."""
    con = sqlite3.connect(db)
    with con:
        q0 = con.execute("SELECT coalesce(max(qorder) + 1, 0) FROM hook_exec").fetchone()[0]
        now = int(time.time() * 1000)
        con.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
            "INSERT INTO hook_exec (hook_id, exec_id, qorder, state, command, queued_ms, start_ms, end_ms, code, "
            "stdout, stderr) SELECT ? + i % ?, (SELECT next_exec FROM hook WHERE id = ? + i % ?) + i / ?, ? + i, "
            "'SUCCESS', '/bin/true', ? - (? - i) * 1000, ? - (? - i) * 1000, ? - (? - i) * 1000 + 5, 0, x'', x'' "
            "FROM n", (count, first_hook, hooks, first_hook, hooks, hooks, q0, now, count, now, count, now, count))
        con.execute("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
                    "INSERT INTO hook_input (qorder, arguments, argv) SELECT ? + i, '', x'' FROM n", (count, q0))
        con.execute("UPDATE hook SET next_exec = (SELECT max(exec_id) + 1 FROM hook_exec WHERE hook_id = hook.id) "
                    "WHERE id >= ? AND id < ?", (first_hook, first_hook + hooks))
    con.close()


def timed(argv, n=20):
    ts = []
    for _ in range(n):
        t0 = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        ts.append((time.monotonic() - t0) * 1000)
    return percentile(ts, 0.5)


def per_execution_ms(records, executions, concurrency=8):
    """Per-execution cost (ms of wall time per hook run, /bin/true) for a hook whose log already
    holds `records` records and keeps them all (LOG_RETENTION = records), so that every finished
    execution prunes one record; with records = 0 nothing is pruned (the baseline). records must be
    0 or at least `executions`."""
    with Scratch(hem_extra=["--concurrency", str(concurrency)],
                 pub_extra=["--journal-retention", str(executions + 10)]) as s:
        s.hem.allocate("NAME = r\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.retention\n"
                       "LOG_RETENTION = %d\n" % (records or executions + 10))
        s.hem.stop()
        if records:
            seed(s.hem.database, records)
        emit_many(s.pub.cmd_endpoint, [api_content("one.bench.retention")] * executions)
        s.hem.start()
        # Counted over the new executions' primary-key range (the hook is the first, id 0, and the
        # seeded records hold its first exec ids), four times a second: a count over the whole log
        # fifty times a second cost more, the larger the log, than what it measured.
        wait_done(lambda: s.hem.db("SELECT count(*) FROM hook_exec WHERE hook_id = 0 AND exec_id >= ? "
                                   "AND state IN ('SUCCESS', 'ERROR')", (records,))[0][0] >= executions,
                  timeout=600, what="the executions")
        t0, t1 = s.hem.db("SELECT min(start_ms), max(end_ms) FROM hook_exec WHERE seq IS NOT NULL")[0]
        kept = s.hem.db("SELECT count(*) FROM hook_exec")[0][0]
        if records and kept != records:
            raise SystemExit("scale: retention kept %d records, expected %d" % (kept, records))
        return (t1 - t0) / executions


def event_cpu_us(s, n):
    """hem's CPU time (its own, µs) per event for n events of one.bench.h0, from the first EMIT to
    the last execution recorded: taking each from the bus, finding its hook, queueing and running
    it."""
    cpu0 = proc_cpu_s(s.hem.proc.pid)
    acks = emit_many(s.pub.cmd_endpoint, [api_content("one.bench.h0")] * n)
    last = max(seq for seq, _ in acks)
    wait_done(lambda: s.hem.db("SELECT value FROM meta WHERE key = 'last_seq'")[0][0] >= last and not
              s.hem.db("SELECT 1 FROM hook_exec WHERE state IN ('PENDING', 'RUNNING') LIMIT 1"),
              timeout=600, what="the events to run")
    return (proc_cpu_s(s.hem.proc.pid)[0] - cpu0[0]) * 1e6 / n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hooks", type=int, default=10000)
    ap.add_argument("--records", default="10000,100000,1000000")
    ap.add_argument("--executions", type=int, default=1000)
    ap.add_argument("--storm", type=int, default=20000)
    ap.add_argument("--events", type=int, default=5000,
                    help="events of one hook, with one hook and with all of them registered")
    a = ap.parse_args()
    sizes = [int(x) for x in a.records.split(",")]
    print("machine: " + machine())

    with Scratch() as s:
        s.hem.stop()
        empty_t, empty_rss = started(s.hem)
        print("empty hem: start-up %.3f s, RSS %d KiB" % (empty_t, empty_rss))
    with Scratch() as s:
        s.hem.allocate("NAME = h0\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.h0\n")
        one_hook = event_cpu_us(s, a.events)

    with Scratch() as s:
        t0 = time.monotonic()
        for i in range(a.hooks):
            s.hem.allocate("NAME = h%d\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.h%d\n" % (i, i))
        print("registered %d hooks in %.1f s" % (a.hooks, time.monotonic() - t0))
        s.hem.stop()
        seed(s.hem.database, max(sizes), 0, a.hooks)
        t, rss = started(s.hem)
        print("RESULT scale_startup                %d hooks + %d records: start-up %.3f s (ratio %.1f over empty), "
              "RSS %d KiB (ratio %.1f)" % (a.hooks, max(sizes), t, t / empty_t, rss, rss / empty_rss))
        env = dict(os.environ, HOOKBUS_ENDPOINT=s.hem.control_endpoint)
        per_hook = max(sizes) // a.hooks
        show = timed([HOOKCTL, "show", "1", "--endpoint", s.hem.control_endpoint])
        since = str(int(time.time()) - 60)
        log = timed([HOOKCTL, "log", "--since", since, "--endpoint", s.hem.control_endpoint])
        log_hook = timed([HOOKCTL, "log", "--hook-id", "7", "--endpoint", s.hem.control_endpoint])
        lst = timed([HOOKCTL, "list", "--endpoint", s.hem.control_endpoint], n=5)
        del env
        print("RESULT scale_hookctl                show of a hook (%d records) %.1f ms, log --since 1 min %.1f ms, "
              "log --hook-id %.1f ms, list of %d hooks %.1f ms" % (per_hook, show, log, log_hook, a.hooks, lst))
        many = event_cpu_us(s, a.events)
        print("RESULT scale_event_cpu              %d events for one of %d hooks: hem %.1f us of CPU per event, "
              "ratio %.2f over the same with one hook (%.1f us)" % (a.events, a.hooks, many, many / one_hook, one_hook))

    base = per_execution_ms(0, a.executions)
    print("retention: per-execution cost with an empty log %.3f ms" % base)
    for n in sizes:
        c = per_execution_ms(n, a.executions)
        print("RESULT retention_cost_at_%-9d   %.3f ms per execution, ratio %.2f over an empty log" % (n, c, c / base),
              flush=True)

    with Scratch(hem_extra=["--concurrency", "8", "--log-retention", "20"],
                 pub_extra=["--journal-retention", str(a.storm + 10)]) as s:
        s.hem.allocate("NAME = storm\nTYPE = api\nCOMMAND = /bin/true\nCALL = one.bench.storm\n")
        start_rss = rss_kib(s.hem.proc.pid)
        peak = [start_rss]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(s.hem.proc.pid))
                time.sleep(0.05)
        th = threading.Thread(target=sample)
        th.start()
        emit_many(s.pub.cmd_endpoint, [api_content("one.bench.storm")] * a.storm)
        wait_done(lambda: s.hem.db("SELECT count(*) FROM hook_exec WHERE state = 'PENDING'")[0][0] == 0,
                  timeout=900, what="the storm to drain")
        stop.set()
        th.join()
        print("RESULT storm_rss                    %d events: RSS start %d KiB, peak %d KiB (ratio %.2f)"
              % (a.storm, start_rss, peak[0], peak[0] / start_rss))


if __name__ == "__main__":
    main()
