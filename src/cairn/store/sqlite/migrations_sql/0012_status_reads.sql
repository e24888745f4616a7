-- What every command's status render reads, without a sort (issue 9: status and recover at
-- 10,000 tasks): the newest failures come straight from an index instead of sorting every failed
-- phase.
CREATE INDEX phases_state_finished ON phases(state, finished_at);
