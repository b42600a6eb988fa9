-- journal.db, version 1: every message hm-publisher accepted, by sequence number.
CREATE TABLE event (
  seq      INTEGER PRIMARY KEY,   -- the publisher's sequence number, from 1
  received INTEGER NOT NULL,      -- epoch milliseconds when it was accepted
  keys     TEXT NOT NULL,         -- the keys it was published under, newline-separated
  content  TEXT NOT NULL          -- base64 of the HOOK_MESSAGE, SEQ included
);
-- The last sequence number ever assigned, kept even when retention empties the table.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_seq', 0);
