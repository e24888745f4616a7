-- One WAL page and one trigger fewer per durable write (issue 9): the number of checkpoint
-- versions is the largest rowid of checkpoints (versions are never deleted; a restore clears them
-- all and the rowids start again from 1), not a meta row that every insert updates. The dump
-- holds no count: a restore has its rowids start again from 1 (contract/records.DERIVED).
DROP TRIGGER checkpoints_count;
DELETE FROM meta WHERE key = 'checkpoint_versions';
-- Should an older store have a gap in its rowids, they are made 1..n once, in their order.
CREATE TEMP TABLE checkpoint_rowids (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
INSERT INTO checkpoint_rowids (old, new)
SELECT rowid, row_number() OVER (ORDER BY rowid) FROM checkpoints
WHERE (SELECT count(*) FROM checkpoints) != (SELECT coalesce(max(rowid), 0) FROM checkpoints);
UPDATE checkpoints SET rowid = -rowid WHERE rowid IN (SELECT old FROM checkpoint_rowids);
UPDATE checkpoints SET rowid = (SELECT new FROM checkpoint_rowids WHERE old = -checkpoints.rowid)
WHERE rowid < 0;
DROP TABLE checkpoint_rowids;
