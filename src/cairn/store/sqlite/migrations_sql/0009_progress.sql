-- Progress at any length (issue 9): a step used to store a whole new version of the progress
-- checkpoint, so a step got slower and the store grew with every step. The progress file's text
-- is now one row per task, replaced in place; the steps themselves stay in `steps`.
CREATE TABLE progress_docs (
    task_id TEXT PRIMARY KEY REFERENCES tasks(id),
    hash TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The number of steps of a task, kept by the store on each new step (the progress file and the
-- status show it after every step; counting 100,000 rows each time is what made steps slow).
ALTER TABLE tasks ADD COLUMN step_count INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET step_count = (SELECT count(*) FROM steps s WHERE s.task_id = tasks.id);

-- The queries every step and every write makes.
CREATE INDEX steps_text ON steps(task_id, text);
CREATE INDEX steps_open ON steps(task_id, id) WHERE state != 'done';
CREATE INDEX checkpoints_hash ON checkpoints(task_id, kind, hash);
