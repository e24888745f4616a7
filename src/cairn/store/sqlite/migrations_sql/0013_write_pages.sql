-- Fewer pages written per durable write (issue 9: a checkpoint write within 2x an INSERT + COMMIT).
--
-- tasks(updated_at) is never read on its own: every list of tasks filters on the state first,
-- which tasks_state(state, updated_at) serves. Each write touches its task, and moving the entry
-- in this index as well was one page more in every commit.
DROP INDEX tasks_updated;

-- The journal without AUTOINCREMENT, which kept the last id in sqlite_sequence: one more page
-- written by every event. Ids stay the newest + 1 without it, because no event is ever deleted
-- (the trigger below refuses it) and a rolled-back id was never seen by anyone.
CREATE TABLE events_v13 (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    task_id TEXT,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
INSERT INTO events_v13 (id, ts, task_id, type, data) SELECT id, ts, task_id, type, data FROM events;
DROP TABLE events;
ALTER TABLE events_v13 RENAME TO events;
CREATE INDEX events_task ON events(task_id, id);
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
CREATE TRIGGER events_no_update BEFORE UPDATE OF id, ts, type, data ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
DELETE FROM sqlite_sequence WHERE name = 'events';
