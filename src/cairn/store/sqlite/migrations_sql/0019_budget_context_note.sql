-- A client session's hooks find the newest budget context of that session (its note is the
-- session id) on every turn, so two sessions in one workspace each record into their own; without
-- this the look-up reads every context the workspace ever started (one per session start, phase
-- and compaction).
CREATE INDEX budget_contexts_note ON budget_contexts(note, started_at);
