-- hem.db, version 3: blocking hooks. Each record says whether it is an execution of a BLOCKING hook
-- and, once a blocking execution has ended, its vote on the event (allow or refuse). The dispatcher
-- takes blocking PENDING records first, and VERDICT finds an event's blocking records by its seq.
ALTER TABLE hook_log ADD COLUMN blocking INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hook_log ADD COLUMN verdict TEXT CHECK (verdict IS NULL OR verdict IN ('allow', 'refuse'));
-- The queue, blocking records first, each part in the order they were queued.
CREATE INDEX hook_log_queue ON hook_log (blocking DESC, qorder) WHERE state = 'PENDING';
-- VERDICT <seq>: the blocking records of one event.
CREATE INDEX hook_log_blocking_seq ON hook_log (seq) WHERE blocking = 1;
-- hook_log_queue serves every query hook_log_pending served.
DROP INDEX hook_log_pending;
