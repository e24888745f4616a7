-- Durable phase runs (cairn.flow): one row per attempt of a phase run by `task.run()` /
-- `cairn run`. A row is written in the same transaction that marks the phase active, and updated in
-- the one that marks it done (with the phase's result) or failed, so "phase active + a running row"
-- after a restart means the process died mid-phase.
CREATE TABLE phase_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks(id),
    phase TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    -- running | done | failed | crashed | reset
    state TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    -- none | checkpoint | text | json: what the phase function returned
    result_type TEXT,
    result_kind TEXT,
    result_version INTEGER,
    result_json TEXT,
    error TEXT
);
CREATE INDEX phase_runs_phase ON phase_runs(task_id, phase, id);
