-- The open tasks, most recently updated first: what the status and every list read, as an index
-- that gives the first N without sorting every task.
CREATE INDEX tasks_open_recent ON tasks(updated_at DESC, seq DESC) WHERE state = 'open';
