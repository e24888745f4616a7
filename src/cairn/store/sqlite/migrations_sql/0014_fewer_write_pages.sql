-- Fewer pages per durable write (issue 9: a checkpoint write within 2x an INSERT + COMMIT).
--
-- The number of checkpoint versions was a counter in meta, raised by a trigger on every insert:
-- one more page written by every commit. It is now the largest rowid, read from the right edge of
-- the table: checkpoints are never deleted (the trigger refuses it), a rolled-back insert leaves
-- no rowid behind, and a new rowid is the largest + 1, so the rowids are 1..count.
DROP TRIGGER checkpoints_count;
DELETE FROM meta WHERE key = 'checkpoint_versions';

-- A store whose rowids have a gap (rows deleted by hand, beneath the triggers) is renumbered once,
-- in the same order: nothing reads a checkpoint by its rowid.
CREATE TEMP TABLE cairn_checkpoint_order (n INTEGER PRIMARY KEY, old INTEGER NOT NULL UNIQUE);
INSERT INTO cairn_checkpoint_order (old) SELECT rowid FROM checkpoints
WHERE (SELECT coalesce(max(rowid), 0) - count(*) FROM checkpoints) != 0 ORDER BY rowid;
UPDATE checkpoints SET rowid = -(SELECT o.n FROM cairn_checkpoint_order o WHERE o.old = checkpoints.rowid)
WHERE rowid IN (SELECT old FROM cairn_checkpoint_order);
UPDATE checkpoints SET rowid = -rowid WHERE rowid < 0;
DROP TABLE cairn_checkpoint_order;

-- The look-up of a version by its content (is this file something cairn wrote?) needs only a
-- prefix of the hash in the index: a 16-character key instead of 64 makes the index a third of
-- the size, and each write, inserting at a random place in it, splits its pages less often. The
-- query compares the whole hash on the rows the prefix finds.
DROP INDEX checkpoints_hash;
CREATE INDEX checkpoints_hash ON checkpoints(task_id, kind, substr(hash, 1, 16));
