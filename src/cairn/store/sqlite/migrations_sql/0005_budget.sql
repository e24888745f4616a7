-- Context budget, agent runs, compactions and model subagents (issue 5).

-- One context window: an outside agent's session, an agent-runtime phase, or the span between two
-- compactions. The budget is measured against the newest context.
CREATE TABLE budget_contexts (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    task_id TEXT,
    run_id TEXT,
    note TEXT
);

-- What entered a context, by category and source. Append-only.
CREATE TABLE budget_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    context_id TEXT NOT NULL,
    task_id TEXT,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    exact INTEGER NOT NULL
);
CREATE INDEX budget_ledger_context ON budget_ledger(context_id, category);

CREATE TRIGGER budget_ledger_no_update BEFORE UPDATE ON budget_ledger
BEGIN SELECT RAISE(ABORT, 'budget_ledger is append-only'); END;
CREATE TRIGGER budget_ledger_no_delete BEFORE DELETE ON budget_ledger
BEGIN SELECT RAISE(ABORT, 'budget_ledger is append-only'); END;

-- Runs of the agent runtime (`cairn agent run`).
CREATE TABLE agent_runs (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    model TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    state TEXT NOT NULL,
    pid INTEGER,
    usage TEXT NOT NULL DEFAULT '{}',
    error TEXT
);

-- Every compaction the runtime made: at a safe point, or forced by the hard limit (suboptimal).
CREATE TABLE agent_compactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    run_id TEXT,
    task_id TEXT,
    phase TEXT,
    safe_point INTEGER NOT NULL,
    tokens_before INTEGER NOT NULL,
    tokens_after INTEGER NOT NULL,
    tokens_since_checkpoint INTEGER NOT NULL,
    window INTEGER NOT NULL,
    reason TEXT NOT NULL
);

CREATE TRIGGER agent_compactions_no_update BEFORE UPDATE ON agent_compactions
BEGIN SELECT RAISE(ABORT, 'agent_compactions is append-only'); END;
CREATE TRIGGER agent_compactions_no_delete BEFORE DELETE ON agent_compactions
BEGIN SELECT RAISE(ABORT, 'agent_compactions is append-only'); END;

-- Model subagents: fresh-context workers that return a capped summary.
CREATE TABLE subagent_runs (
    id TEXT PRIMARY KEY,
    run_id TEXT,
    task_id TEXT,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT NOT NULL,
    budget_tokens INTEGER NOT NULL,
    used_tokens INTEGER NOT NULL DEFAULT 0,
    partial INTEGER NOT NULL DEFAULT 0,
    summary TEXT,
    summary_tokens INTEGER NOT NULL DEFAULT 0,
    transcript TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
);
CREATE INDEX subagent_runs_task ON subagent_runs(task_id, started_at);
