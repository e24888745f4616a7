-- Worker subagents: one row per (task, worker name), the newest run of that worker.
-- The journal (events: worker.started / worker.finished / worker.failed ...) keeps every run.

CREATE TABLE workers (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,              -- fn | cmd
    spec TEXT NOT NULL,              -- JSON: what runs (function name or argv), inputs, outputs
    spec_hash TEXT NOT NULL,         -- a changed spec is run again instead of reused
    state TEXT NOT NULL,             -- running | done | failed | timeout
    run_id TEXT NOT NULL,            -- unique per run; a finishing run updates only its own row
    attempt INTEGER NOT NULL,
    owner_pid INTEGER,               -- the orchestrator that started the run
    owner_start TEXT,                -- its process start time, to tell a reused pid
    pid INTEGER,                     -- the worker process (leader of its own process group)
    pid_start TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_s REAL,
    exit_code INTEGER,
    summary TEXT,                    -- capped at the worker's summary_chars
    log_path TEXT NOT NULL,          -- relative to the workspace
    log_tail TEXT,
    outputs TEXT NOT NULL,           -- JSON list of declared output paths
    PRIMARY KEY (task_id, name)
);
CREATE UNIQUE INDEX workers_run ON workers(run_id);
CREATE INDEX workers_state ON workers(state);
