-- hem.db, version 1: the hooks, every execution of them (which is also the durable queue), and
-- hem's progress through the bus.
CREATE TABLE hook (
  id          INTEGER PRIMARY KEY,          -- from 0, never reused (meta.next_hook_id)
  name        TEXT NOT NULL UNIQUE,
  type        TEXT NOT NULL CHECK (type IN ('api', 'state')),
  prefix      TEXT NOT NULL,                -- the subscription prefix of its trigger
  template    TEXT NOT NULL,                -- the template text without NAME and TYPE
  lock_level  INTEGER NOT NULL DEFAULT 0,   -- 0 unlocked, 1 use, 2 manage, 3 admin, 4 all
  lock_time   INTEGER NOT NULL DEFAULT 0,
  created     INTEGER NOT NULL,
  updated     INTEGER NOT NULL,
  next_exec   INTEGER NOT NULL DEFAULT 0    -- the next EXECUTION_ID; never reused after pruning
);

CREATE TABLE hook_log (
  hook_id          INTEGER NOT NULL REFERENCES hook (id) ON DELETE CASCADE,
  exec_id          INTEGER NOT NULL,
  qorder           INTEGER NOT NULL,        -- global order of queueing (meta.next_qorder)
  state            TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'SUCCESS', 'ERROR',
                                                  'INTERRUPTED')),
  seq              INTEGER,                 -- the triggering event's SEQ; NULL for none
  event_key        TEXT,
  retry_of         INTEGER,                 -- EXECUTION_ID this one retries
  command          TEXT NOT NULL,
  arguments        TEXT NOT NULL,           -- the expanded argument string
  argv             BLOB NOT NULL,           -- the argument vector, elements NUL-terminated
  stdin_data       BLOB,                    -- written to the hook's stdin (ARGUMENTS_STDIN)
  remote_host      TEXT,
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
  PRIMARY KEY (hook_id, exec_id)
) WITHOUT ROWID;
-- The queue: PENDING records in the order they were queued.
CREATE INDEX hook_log_pending ON hook_log (qorder) WHERE state = 'PENDING';
-- hookctl log --since/--until.
CREATE INDEX hook_log_start ON hook_log (start_ms);
-- Exactly once per (hook, event): a replayed event never queues a hook twice.
CREATE UNIQUE INDEX hook_log_event ON hook_log (hook_id, seq) WHERE seq IS NOT NULL AND retry_of IS NULL;

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_seq', 0), ('next_hook_id', 0), ('next_qorder', 0);
