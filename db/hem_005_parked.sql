-- hem.db, version 5: an execution's record in two tables, and records parked out of the
-- dispatcher's walk. hook_log is rebuilt once; every record is kept as it was.
--
-- hook_exec holds what a record's life changes (state, times, code, outputs), hook_input what
-- never changes after queueing: the arguments, the argument vector and the standard input. Both
-- were one row of hook_log, and SQLite rewrites a whole row, overflow pages and all, on every
-- update: with ARGUMENTS = $TEMPLATE of some kilobytes, the RUNNING mark and the end each wrote
-- the payload again. Both tables are keyed by the record's queue order (unique among records) as
-- their rowid, so that large rows (a payload, a hook's output) sit only in leaf pages; hook_log
-- was WITHOUT ROWID, whose interior pages hold whole rows. (hook_id, exec_id) stays unique.
-- hook_log is now a view of the two with the columns of the old table, in their order: every
-- reader sees the same records.
--
-- The queue's index leads with `parked`, and dispatch walks only the records where it is 0; a
-- parked record is still PENDING to every reader and keeps its place in the queue (qorder).
--   1: passed over because its hook was at its CONCURRENCY; each end of one of the hook's
--      executions returns the hook's oldest, and hem returns all of them when it starts, when a
--      hook is updated and after a rolled-back transaction that parked or returned any.
--   2: a retry waiting for its RUN_AFTER time, returned once that time has come.
-- Before, each dispatch passed over every such record (about 1 us each), for every execution it
-- started: a backlog behind a limit or a queue of waiting retries slowed all of hem.
CREATE TABLE hook_exec (
  qorder           INTEGER PRIMARY KEY,     -- global order of queueing: the rowid, one more than the largest
  hook_id          INTEGER NOT NULL REFERENCES hook (id) ON DELETE CASCADE,
  exec_id          INTEGER NOT NULL,
  state            TEXT NOT NULL CHECK (state = 'PENDING' OR state = 'RUNNING' OR state = 'SUCCESS'
                                        OR state = 'ERROR' OR state = 'INTERRUPTED' OR state = 'SKIPPED'),
  parked           INTEGER NOT NULL DEFAULT 0,   -- 1: behind its hook's CONCURRENCY; 2: a retry not yet due
  seq              INTEGER,                 -- the triggering event's SEQ; NULL for none
  event_key        TEXT,
  retry_of         INTEGER,                 -- EXECUTION_ID this one retries (the first of its attempts)
  command          TEXT NOT NULL,
  remote_host      TEXT,                    -- set for a REMOTE execution: the host it runs on
  queued_ms        INTEGER NOT NULL,
  start_ms         INTEGER,                 -- TIMESTAMP is start_ms / 1000
  end_ms           INTEGER,
  code             INTEGER,
  signal           INTEGER,
  timed_out        INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 1,   -- 1 for a first run, n for its (n-1)th automatic retry
  run_after_ms     INTEGER,                 -- a PENDING record does not start before this; NULL: at once
  blocking         INTEGER NOT NULL DEFAULT 0,   -- an execution of a BLOCKING hook
  verdict          TEXT CHECK (verdict IS NULL OR verdict = 'allow' OR verdict = 'refuse'),
  stdout_truncated INTEGER NOT NULL DEFAULT 0,
  stderr_truncated INTEGER NOT NULL DEFAULT 0,
  stdout           BLOB,
  stderr           BLOB,
  UNIQUE (hook_id, exec_id)
);
CREATE TABLE hook_input (
  qorder           INTEGER PRIMARY KEY,     -- hook_exec.qorder
  arguments        TEXT NOT NULL,           -- the expanded argument string
  argv             BLOB NOT NULL,           -- the argument vector, elements NUL-terminated
  stdin_data       BLOB                     -- written to the hook's stdin (ARGUMENTS_STDIN)
);
-- A record's input goes with it: pruned, or with its hook.
CREATE TRIGGER hook_exec_input AFTER DELETE ON hook_exec BEGIN
  DELETE FROM hook_input WHERE qorder = old.qorder;
END;
-- Queue orders came from one counter and are unique; numbered again all the same (in the same
-- order), since they are the tables' key now.
CREATE TEMP TABLE hook_log_order AS
  SELECT hook_id, exec_id, row_number() OVER (ORDER BY qorder, hook_id, exec_id) - 1 AS qorder FROM hook_log;
INSERT INTO hook_exec (hook_id, exec_id, qorder, state, parked, seq, event_key, retry_of, command, remote_host,
                       queued_ms, start_ms, end_ms, code, signal, timed_out, attempt, run_after_ms, blocking,
                       verdict, stdout_truncated, stderr_truncated, stdout, stderr)
  SELECT l.hook_id, l.exec_id, o.qorder, l.state,
         CASE WHEN l.state = 'PENDING' AND l.run_after_ms IS NOT NULL THEN 2 ELSE 0 END,
         l.seq, l.event_key, l.retry_of, l.command, l.remote_host, l.queued_ms, l.start_ms, l.end_ms, l.code,
         l.signal, l.timed_out, l.attempt, l.run_after_ms, l.blocking, l.verdict, l.stdout_truncated,
         l.stderr_truncated, l.stdout, l.stderr
  FROM hook_log l JOIN hook_log_order o USING (hook_id, exec_id);
INSERT INTO hook_input (qorder, arguments, argv, stdin_data)
  SELECT o.qorder, l.arguments, l.argv, l.stdin_data FROM hook_log l JOIN hook_log_order o USING (hook_id, exec_id);
-- The next queue order is the rowid SQLite gives a new row of hook_exec, one more than the
-- largest: no counter to read and write for each record any more.
DELETE FROM meta WHERE key = 'next_qorder';
DROP TABLE hook_log_order;
DROP TABLE hook_log;
CREATE VIEW hook_log AS
  SELECT e.hook_id, e.exec_id, e.qorder, e.state, e.seq, e.event_key, e.retry_of, e.command, i.arguments, i.argv,
         i.stdin_data, e.remote_host, e.queued_ms, e.start_ms, e.end_ms, e.code, e.signal, e.timed_out, e.stdout,
         e.stderr, e.stdout_truncated, e.stderr_truncated, e.attempt, e.run_after_ms, e.blocking, e.verdict,
         e.parked
  FROM hook_exec e LEFT JOIN hook_input i ON i.qorder = e.qorder;
-- The queue: the records not parked, blocking ones first, each part in the order they were
-- queued (then the parked ones: counted with them as PENDING).
CREATE INDEX hook_exec_queue ON hook_exec (parked, blocking DESC, qorder) WHERE state = 'PENDING';
-- A hook's records held back by its CONCURRENCY, oldest first.
CREATE INDEX hook_exec_parked ON hook_exec (hook_id) WHERE state = 'PENDING' AND parked = 1;
-- When the next waiting retry is due.
CREATE INDEX hook_exec_due ON hook_exec (run_after_ms) WHERE state = 'PENDING' AND parked = 2;
-- Retention: a hook's finished records below its cut-off. The range of the (hook_id, exec_id)
-- index also holds the hook's queued and running records, which a backlog longer than
-- LOG_RETENTION (20 by default) made every end of the hook walk again.
CREATE INDEX hook_exec_done ON hook_exec (hook_id, exec_id) WHERE end_ms IS NOT NULL;
-- hookctl log --since/--until (their comparisons imply start_ms IS NOT NULL).
CREATE INDEX hook_exec_start ON hook_exec (start_ms) WHERE start_ms IS NOT NULL;
-- Exactly once per (hook, event): a replayed event never queues a hook twice.
CREATE UNIQUE INDEX hook_exec_event ON hook_exec (hook_id, seq) WHERE seq IS NOT NULL AND retry_of IS NULL;
-- VERDICT <seq>: the blocking records of one event.
CREATE INDEX hook_exec_blocking_seq ON hook_exec (seq) WHERE blocking = 1;
