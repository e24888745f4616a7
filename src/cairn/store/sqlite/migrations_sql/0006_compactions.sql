-- Compactions seen by the agent hooks (Claude Code, Codex CLI): one row per PreCompact, completed
-- by PostCompact (the summary the agent made) and by the SessionStart that recovered from it.
CREATE TABLE compactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    agent TEXT NOT NULL,
    session_id TEXT,
    transcript_path TEXT,
    trigger TEXT,
    custom_instructions TEXT,
    task_id TEXT,
    phase TEXT,
    safe_point INTEGER,
    reason TEXT NOT NULL,
    last_checkpoint_at TEXT,
    seconds_since_checkpoint REAL,
    tool_calls_since_checkpoint INTEGER,
    tool_calls_exact INTEGER,
    summary TEXT,
    summary_at TEXT,
    recovered_at TEXT,
    recovery_trigger TEXT
);
CREATE INDEX compactions_session ON compactions(session_id, id);
