-- A task's touch (every checkpoint write and step sets its updated_at) changes an indexed column,
-- so it is no HOT update: the new row version gets an entry in every index of tasks. Two of them
-- serve no query (issue 12): every read that orders by updated_at is of the open tasks and goes
-- through tasks_open_recent (0003); nothing looks tasks up by updated_at alone, and the one
-- query by another state, the archived list, sorts by state_at, which tasks_state did not cover.
-- They go; the archived list gets an index of its own, partial, so an open task's touch adds
-- no entry to it. Left: the id, the key, tasks_open_recent (3 entries per touch instead of 5).
DROP INDEX tasks_updated;
DROP INDEX tasks_state;
CREATE INDEX tasks_archived ON tasks(state_at DESC, seq DESC) WHERE state = 'archived';
