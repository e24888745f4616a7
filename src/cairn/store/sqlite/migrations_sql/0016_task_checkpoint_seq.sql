-- One page fewer per durable write (issue 9: a checkpoint write in a batch within 1.5x an INSERT +
-- COMMIT): the sequence number of a task's newest checkpoint version is kept on the task row,
-- which every write touches anyway, instead of being found through checkpoints(task_id, seq),
-- an index every write had to grow. Derived state: not a field of the dump's task records
-- (sqlite/dialect.py); a restore derives it again (records._DERIVE; 0018 dropped the trigger below).
ALTER TABLE tasks ADD COLUMN checkpoint_seq INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET checkpoint_seq = coalesce((SELECT max(seq) FROM checkpoints c WHERE c.task_id = tasks.id), 0);
-- The write path raises the counter itself before its insert; an insert that brings its own seq
-- (a restore, a copy) raises it here.
CREATE TRIGGER checkpoints_task_seq AFTER INSERT ON checkpoints
WHEN NEW.seq > (SELECT checkpoint_seq FROM tasks WHERE id = NEW.task_id)
BEGIN
    UPDATE tasks SET checkpoint_seq = NEW.seq WHERE id = NEW.task_id;
END;
DROP INDEX checkpoints_seq;
-- The write's look-up of the task's first active phase walks its phases in order instead of
-- sorting them in a temporary b-tree (phases change seldom; this index moves only then).
CREATE INDEX phases_position ON phases(task_id, position);
