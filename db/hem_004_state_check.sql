-- hem.db, version 4: hook_log as it was, with its state CHECK written as comparisons, and its
-- index of start times without the records not started. SQLite codes an IN list of more than two
-- constants as a temporary b-tree, built and freed by every statement that sets state: each
-- queueing, start and end of a hook paid for one. A queued record's NULL start time was an index
-- entry written at queueing and deleted at the start, on a page of its own. SQLite cannot change a
-- CHECK constraint in place, so hook_log is rebuilt with every record kept as it was.
CREATE TABLE hook_log_v4 (
  hook_id          INTEGER NOT NULL REFERENCES hook (id) ON DELETE CASCADE,
  exec_id          INTEGER NOT NULL,
  qorder           INTEGER NOT NULL,        -- global order of queueing (meta.next_qorder)
  state            TEXT NOT NULL CHECK (state = 'PENDING' OR state = 'RUNNING' OR state = 'SUCCESS'
                                        OR state = 'ERROR' OR state = 'INTERRUPTED' OR state = 'SKIPPED'),
  seq              INTEGER,                 -- the triggering event's SEQ; NULL for none
  event_key        TEXT,
  retry_of         INTEGER,                 -- EXECUTION_ID this one retries (the first of its attempts)
  command          TEXT NOT NULL,
  arguments        TEXT NOT NULL,           -- the expanded argument string
  argv             BLOB NOT NULL,           -- the argument vector, elements NUL-terminated
  stdin_data       BLOB,                    -- written to the hook's stdin (ARGUMENTS_STDIN)
  remote_host      TEXT,                    -- set for a REMOTE execution: the host it runs on
  queued_ms        INTEGER NOT NULL,
  start_ms         INTEGER,                 -- TIMESTAMP is start_ms / 1000
  end_ms           INTEGER,
  code             INTEGER,
  signal           INTEGER,
  timed_out        INTEGER NOT NULL DEFAULT 0,
  stdout           BLOB,
  stderr           BLOB,
  stdout_truncated INTEGER NOT NULL DEFAULT 0,
  stderr_truncated INTEGER NOT NULL DEFAULT 0,
  attempt          INTEGER NOT NULL DEFAULT 1,   -- 1 for a first run, n for its (n-1)th automatic retry
  run_after_ms     INTEGER,                 -- a PENDING record does not start before this; NULL: at once
  blocking         INTEGER NOT NULL DEFAULT 0,   -- an execution of a BLOCKING hook
  verdict          TEXT CHECK (verdict IS NULL OR verdict = 'allow' OR verdict = 'refuse'),
  PRIMARY KEY (hook_id, exec_id)
) WITHOUT ROWID;
INSERT INTO hook_log_v4 (hook_id, exec_id, qorder, state, seq, event_key, retry_of, command, arguments, argv,
                         stdin_data, remote_host, queued_ms, start_ms, end_ms, code, signal, timed_out, stdout,
                         stderr, stdout_truncated, stderr_truncated, attempt, run_after_ms, blocking, verdict)
  SELECT hook_id, exec_id, qorder, state, seq, event_key, retry_of, command, arguments, argv, stdin_data,
         remote_host, queued_ms, start_ms, end_ms, code, signal, timed_out, stdout, stderr, stdout_truncated,
         stderr_truncated, attempt, run_after_ms, blocking, verdict FROM hook_log;
DROP TABLE hook_log;
ALTER TABLE hook_log_v4 RENAME TO hook_log;
-- The queue, blocking records first, each part in the order they were queued.
CREATE INDEX hook_log_queue ON hook_log (blocking DESC, qorder) WHERE state = 'PENDING';
-- When the next delayed retry is due.
CREATE INDEX hook_log_due ON hook_log (run_after_ms) WHERE state = 'PENDING' AND run_after_ms IS NOT NULL;
-- hookctl log --since/--until (their comparisons imply start_ms IS NOT NULL).
CREATE INDEX hook_log_start ON hook_log (start_ms) WHERE start_ms IS NOT NULL;
-- Exactly once per (hook, event): a replayed event never queues a hook twice.
CREATE UNIQUE INDEX hook_log_event ON hook_log (hook_id, seq) WHERE seq IS NOT NULL AND retry_of IS NULL;
-- VERDICT <seq>: the blocking records of one event.
CREATE INDEX hook_log_blocking_seq ON hook_log (seq) WHERE blocking = 1;
