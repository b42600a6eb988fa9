-- hem.db, version 5: records parked out of the dispatcher's walk. The queue's index leads with
-- `parked`, and dispatch walks only the records where it is 0; a parked record is still PENDING
-- to every reader (hookctl, the queue depth, retries) and keeps its place in the queue (qorder).
--   1: passed over because its hook was at its CONCURRENCY; each end of one of the hook's
--      executions returns the hook's oldest, and hem returns all of them when it starts, when a
--      hook is updated and after a rolled-back transaction that parked or returned any.
--   2: a retry waiting for its RUN_AFTER time, returned once that time has come.
-- Before, each dispatch passed over every such record (about 1 us each), for every execution it
-- started: a backlog behind a limit or a queue of waiting retries slowed all of hem.
ALTER TABLE hook_log ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
UPDATE hook_log SET parked = 2 WHERE state = 'PENDING' AND run_after_ms IS NOT NULL;
DROP INDEX hook_log_queue;
-- The queue: the records not parked first, blocking records first among them, each part in the
-- order they were queued.
CREATE INDEX hook_log_queue ON hook_log (parked, blocking DESC, qorder) WHERE state = 'PENDING';
-- A hook's records held back by its CONCURRENCY, oldest first.
CREATE INDEX hook_log_parked ON hook_log (hook_id, qorder) WHERE state = 'PENDING' AND parked = 1;
-- When the next waiting retry is due.
DROP INDEX hook_log_due;
CREATE INDEX hook_log_due ON hook_log (run_after_ms) WHERE state = 'PENDING' AND parked = 2;
