-- The whole schema of the SQLite store's migrations 0001-0009, as PostgreSQL writes it. Text is
-- compared byte-wise (COLLATE "C"), as SQLite does, so that every backend sorts names alike;
-- integers are 64-bit (mtime_ns does not fit 32 bits). Ids are given by the store under its write
-- lock (max + 1), so no column is a sequence except the creation order of budget contexts.

CREATE FUNCTION cairn_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE events (
    id BIGINT PRIMARY KEY,
    ts TEXT COLLATE "C" NOT NULL,
    task_id TEXT COLLATE "C",
    type TEXT COLLATE "C" NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_task ON events(task_id, id);

CREATE TABLE tasks (
    id TEXT COLLATE "C" PRIMARY KEY,
    key TEXT COLLATE "C" NOT NULL UNIQUE,
    title TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    next_action TEXT,
    seq BIGINT NOT NULL,
    step_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tasks_updated ON tasks(updated_at);

CREATE TABLE phases (
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    name TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    gated BIGINT NOT NULL DEFAULT 0,
    started_at TEXT COLLATE "C",
    finished_at TEXT COLLATE "C",
    error TEXT,
    PRIMARY KEY (task_id, name)
);
CREATE INDEX phases_state ON phases(state);

CREATE TABLE checkpoints (
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    kind TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    content TEXT NOT NULL,
    phase TEXT COLLATE "C",
    source TEXT COLLATE "C" NOT NULL,
    files TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (task_id, kind, version)
);
CREATE INDEX checkpoints_seq ON checkpoints(task_id, seq);
CREATE INDEX checkpoints_hash ON checkpoints(task_id, kind, hash);

CREATE TABLE steps (
    id BIGINT PRIMARY KEY,
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    phase TEXT COLLATE "C",
    text TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX steps_task ON steps(task_id, id);
-- md5: a step's text can be longer than a b-tree entry may be.
CREATE INDEX steps_text ON steps(task_id, md5(text));
CREATE INDEX steps_open ON steps(task_id, id) WHERE state != 'done';

CREATE TABLE progress_docs (
    task_id TEXT COLLATE "C" PRIMARY KEY REFERENCES tasks(id),
    hash TEXT NOT NULL,
    content TEXT NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE projections (
    path TEXT COLLATE "C" PRIMARY KEY,
    path_key TEXT COLLATE "C" NOT NULL UNIQUE,
    task_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    hash TEXT NOT NULL,
    prev_hash TEXT,
    mtime_ns BIGINT,
    size BIGINT
);
CREATE INDEX projections_task ON projections(task_id, kind);

CREATE TABLE recoveries (
    id BIGINT PRIMARY KEY,
    ts TEXT COLLATE "C" NOT NULL,
    trigger TEXT COLLATE "C" NOT NULL,
    task_id TEXT COLLATE "C",
    phase TEXT COLLATE "C",
    checkpoint TEXT COLLATE "C",
    reloaded TEXT NOT NULL,
    safe_point BIGINT,
    note TEXT,
    last_event BIGINT NOT NULL
);

CREATE TABLE reviews (
    id TEXT COLLATE "C" PRIMARY KEY,
    task_id TEXT COLLATE "C" REFERENCES tasks(id),
    topic TEXT COLLATE "C" NOT NULL,
    round BIGINT NOT NULL,
    question TEXT NOT NULL,
    concerns TEXT NOT NULL,
    context TEXT NOT NULL,
    reviewer TEXT COLLATE "C" NOT NULL,
    plan_version BIGINT,
    prompt TEXT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    request_path TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX reviews_task ON reviews(task_id, created_at);
CREATE INDEX reviews_topic ON reviews(topic, round);
CREATE INDEX reviews_state ON reviews(state);

CREATE TABLE review_responses (
    id BIGINT PRIMARY KEY,
    review_id TEXT COLLATE "C" NOT NULL REFERENCES reviews(id),
    reviewer TEXT COLLATE "C" NOT NULL,
    provider TEXT COLLATE "C" NOT NULL,
    model TEXT,
    outcome TEXT COLLATE "C" NOT NULL,
    approved BIGINT,
    recommendation TEXT,
    concerns TEXT NOT NULL,
    error TEXT,
    raw TEXT,
    attempts BIGINT NOT NULL,
    input_tokens BIGINT,
    output_tokens BIGINT,
    response_path TEXT NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX review_responses_review ON review_responses(review_id, id);

CREATE TABLE workers (
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    spec TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C" NOT NULL,
    attempt BIGINT NOT NULL,
    owner_pid BIGINT,
    owner_start TEXT,
    pid BIGINT,
    pid_start TEXT,
    started_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C",
    duration_s DOUBLE PRECISION,
    exit_code BIGINT,
    summary TEXT,
    log_path TEXT NOT NULL,
    log_tail TEXT,
    outputs TEXT NOT NULL,
    PRIMARY KEY (task_id, name)
);
CREATE UNIQUE INDEX workers_run ON workers(run_id);
CREATE INDEX workers_state ON workers(state);

CREATE TABLE phase_runs (
    id BIGINT PRIMARY KEY,
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id),
    phase TEXT COLLATE "C" NOT NULL,
    attempt BIGINT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    pid BIGINT NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C",
    result_type TEXT,
    result_kind TEXT,
    result_version BIGINT,
    result_json TEXT,
    error TEXT
);
CREATE INDEX phase_runs_phase ON phase_runs(task_id, phase, id);

CREATE TABLE budget_contexts (
    id TEXT COLLATE "C" PRIMARY KEY,
    started_at TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    task_id TEXT COLLATE "C",
    run_id TEXT COLLATE "C",
    note TEXT,
    -- creation order, the tie-break within a millisecond (SQLite's rowid)
    created BIGSERIAL NOT NULL
);

CREATE TABLE budget_ledger (
    id BIGINT PRIMARY KEY,
    ts TEXT COLLATE "C" NOT NULL,
    context_id TEXT COLLATE "C" NOT NULL,
    task_id TEXT COLLATE "C",
    category TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    tokens BIGINT NOT NULL,
    exact BIGINT NOT NULL
);
CREATE INDEX budget_ledger_context ON budget_ledger(context_id, category);

CREATE TABLE agent_runs (
    id TEXT COLLATE "C" PRIMARY KEY,
    task_id TEXT COLLATE "C" NOT NULL,
    model TEXT NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C",
    state TEXT COLLATE "C" NOT NULL,
    pid BIGINT,
    usage TEXT NOT NULL DEFAULT '{}',
    error TEXT
);

CREATE TABLE agent_compactions (
    id BIGINT PRIMARY KEY,
    ts TEXT COLLATE "C" NOT NULL,
    run_id TEXT COLLATE "C",
    task_id TEXT COLLATE "C",
    phase TEXT COLLATE "C",
    safe_point BIGINT NOT NULL,
    tokens_before BIGINT NOT NULL,
    tokens_after BIGINT NOT NULL,
    tokens_since_checkpoint BIGINT NOT NULL,
    "window" BIGINT NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE subagent_runs (
    id TEXT COLLATE "C" PRIMARY KEY,
    run_id TEXT COLLATE "C",
    task_id TEXT COLLATE "C",
    name TEXT COLLATE "C" NOT NULL,
    spec TEXT NOT NULL,
    model TEXT NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    budget_tokens BIGINT NOT NULL,
    used_tokens BIGINT NOT NULL DEFAULT 0,
    partial BIGINT NOT NULL DEFAULT 0,
    summary TEXT,
    summary_tokens BIGINT NOT NULL DEFAULT 0,
    transcript TEXT,
    started_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT COLLATE "C",
    error TEXT
);
CREATE INDEX subagent_runs_task ON subagent_runs(task_id, started_at);

CREATE TABLE compactions (
    id BIGINT PRIMARY KEY,
    ts TEXT COLLATE "C" NOT NULL,
    agent TEXT COLLATE "C" NOT NULL,
    session_id TEXT COLLATE "C",
    transcript_path TEXT,
    trigger TEXT,
    custom_instructions TEXT,
    task_id TEXT COLLATE "C",
    phase TEXT COLLATE "C",
    safe_point BIGINT,
    reason TEXT NOT NULL,
    last_checkpoint_at TEXT,
    seconds_since_checkpoint DOUBLE PRECISION,
    tool_calls_since_checkpoint BIGINT,
    tool_calls_exact BIGINT,
    summary TEXT,
    summary_at TEXT,
    recovered_at TEXT,
    recovery_trigger TEXT
);
CREATE INDEX compactions_session ON compactions(session_id, id);

-- Append-only tables refuse UPDATE and DELETE, as on SQLite.
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER recoveries_append_only BEFORE UPDATE OR DELETE ON recoveries
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER review_responses_append_only BEFORE UPDATE OR DELETE ON review_responses
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER budget_ledger_append_only BEFORE UPDATE OR DELETE ON budget_ledger
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER agent_compactions_append_only BEFORE UPDATE OR DELETE ON agent_compactions
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();

-- The number of checkpoint versions, kept in meta (the status shows it after every command).
INSERT INTO meta (key, value) VALUES ('checkpoint_versions', '0');
CREATE FUNCTION cairn_count_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'checkpoint_versions';
    RETURN NULL;
END;
$$;
CREATE TRIGGER checkpoints_count AFTER INSERT ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION cairn_count_checkpoint();
