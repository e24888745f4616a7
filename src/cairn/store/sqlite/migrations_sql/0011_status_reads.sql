-- What every command's status render reads, without scanning (issue 9: status and recover at
-- 10,000 tasks). The newest failures come straight from an index instead of sorting every failed
-- phase, and the number of tasks is kept in meta (tasks are never deleted) as the number of
-- checkpoint versions is (0007).
CREATE INDEX phases_state_finished ON phases(state, finished_at);

INSERT INTO meta (key, value) SELECT 'task_count', CAST(count(*) AS TEXT) FROM tasks;
CREATE TRIGGER tasks_count AFTER INSERT ON tasks
BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'task_count';
END;
