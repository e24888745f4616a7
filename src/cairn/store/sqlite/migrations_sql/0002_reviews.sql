-- Reviews: a request to a second model (or a person) and its rounds of answers.
-- A review is one round: a topic asked again after a rejection is a new review with round + 1.

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,             -- r<YYYYMMDD>-<NNN>, sortable
    task_id TEXT REFERENCES tasks(id),
    topic TEXT NOT NULL,
    round INTEGER NOT NULL,
    question TEXT NOT NULL,
    concerns TEXT NOT NULL,          -- JSON list of strings
    context TEXT NOT NULL,           -- JSON list of {path, tokens, sent_tokens, truncated}
    reviewer TEXT NOT NULL,          -- provider:model as asked
    plan_version INTEGER,            -- the version of the task's plan checkpoint under review, if any
    prompt TEXT NOT NULL,            -- exactly what the reviewer was sent
    state TEXT NOT NULL,             -- pending | approved | rejected | failed
    request_path TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reviews_task ON reviews(task_id, created_at);
CREATE INDEX reviews_topic ON reviews(topic, round);
CREATE INDEX reviews_state ON reviews(state);

CREATE TABLE review_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id TEXT NOT NULL REFERENCES reviews(id),
    reviewer TEXT NOT NULL,          -- provider name, as in the response file name
    provider TEXT NOT NULL,
    model TEXT,
    outcome TEXT NOT NULL,           -- approved | rejected | failed
    approved INTEGER,                -- NULL when the reviewer failed: no verdict
    recommendation TEXT,
    concerns TEXT NOT NULL,          -- JSON list of strings
    error TEXT,                      -- why the reviewer failed
    raw TEXT,                        -- the reviewer's raw replies (JSON list), kept as given
    attempts INTEGER NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    response_path TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX review_responses_review ON review_responses(review_id, id);

CREATE TRIGGER review_responses_no_update BEFORE UPDATE ON review_responses
BEGIN SELECT RAISE(ABORT, 'review_responses is append-only'); END;
CREATE TRIGGER review_responses_no_delete BEFORE DELETE ON review_responses
BEGIN SELECT RAISE(ABORT, 'review_responses is append-only'); END;
