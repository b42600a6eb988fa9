-- hem.db, version 5: records parked behind their hook's CONCURRENCY. A record that the dispatcher
-- passes over because its hook is at its limit is marked parked, which moves it out of the part
-- of the queue index that dispatch walks; each end of one of the hook's executions moves its
-- oldest parked record back (its place in the queue is its qorder, kept). The walk then passes
-- over at most CONCURRENCY records of a full hook instead of its whole backlog. A parked record
-- is still PENDING to every reader: hookctl, the queue depth, the retries.
ALTER TABLE hook_log ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
DROP INDEX hook_log_queue;
-- The queue: records not parked first, then blocking records first, each part in the order they
-- were queued.
CREATE INDEX hook_log_queue ON hook_log (parked, blocking DESC, qorder) WHERE state = 'PENDING';
-- A hook's parked records, oldest first.
CREATE INDEX hook_log_parked ON hook_log (hook_id, qorder) WHERE state = 'PENDING' AND parked = 1;
