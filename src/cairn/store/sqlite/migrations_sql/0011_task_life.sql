-- The life of a task (issue 11): archived and deleted tasks, and renaming one.
--
-- `state`: open (everywhere), archived (out of the status, the briefs and the lists, kept whole
-- and brought back by `cairn task unarchive`), deleted (out of everything and out of the readable
-- tree; its history stays, since checkpoints and the journal are append-only, so the id stays
-- taken). `state_at`: when it last changed.
ALTER TABLE tasks ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
ALTER TABLE tasks ADD COLUMN state_at TEXT;
CREATE INDEX tasks_state ON tasks(state, updated_at);

-- A rename moves every record of a task to its new id, the append-only tables included: their
-- triggers now refuse an update of any column but `task_id`, so what was recorded still never
-- changes, only the name it is filed under. (A column added to one of these tables later must be
-- added to its list here, in a new migration.)
DROP TRIGGER events_no_update;
CREATE TRIGGER events_no_update BEFORE UPDATE OF id, ts, type, data ON events
BEGIN SELECT RAISE(ABORT, 'events is append-only'); END;
DROP TRIGGER checkpoints_no_update;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE OF
    kind, version, hash, size, content, phase, source, files, created_at, seq ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END;
DROP TRIGGER recoveries_no_update;
CREATE TRIGGER recoveries_no_update BEFORE UPDATE OF
    id, ts, trigger, phase, checkpoint, reloaded, safe_point, note, last_event ON recoveries
BEGIN SELECT RAISE(ABORT, 'recoveries is append-only'); END;
DROP TRIGGER budget_ledger_no_update;
CREATE TRIGGER budget_ledger_no_update BEFORE UPDATE OF
    id, ts, context_id, category, source, tokens, exact ON budget_ledger
BEGIN SELECT RAISE(ABORT, 'budget_ledger is append-only'); END;
DROP TRIGGER agent_compactions_no_update;
CREATE TRIGGER agent_compactions_no_update BEFORE UPDATE OF
    id, ts, run_id, phase, safe_point, tokens_before, tokens_after, tokens_since_checkpoint,
    window, reason ON agent_compactions
BEGIN SELECT RAISE(ABORT, 'agent_compactions is append-only'); END;
