-- Fewer pages per durable write (issue 9: a checkpoint write within 2x an INSERT + COMMIT).
--
-- The look-up of a version by its content (is this file something cairn wrote?) needs only a
-- prefix of the hash in the index: a 16-character key instead of 64 makes the index a third of
-- the size, and each write, inserting at a random place in it, splits its pages less often. The
-- query compares the whole hash on the rows the prefix finds.
DROP INDEX checkpoints_hash;
CREATE INDEX checkpoints_hash ON checkpoints(task_id, kind, substr(hash, 1, 16));
