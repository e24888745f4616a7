-- A checkpoint write's own cost on the server (issue 12), measured in instructions per call
-- (callgrind, single-user server): 1,635k before, 1,497k after; a plain INSERT + COMMIT of the
-- same bytes is 302k. Same locks, in the same order, same results as 0006; three changes:
--
-- - The task's next sequence number is kept on its row (`checkpoint_seq`, the newest seq given),
--   and the touch that every write makes gives it: one statement where there were two. The
--   max(seq) look-up it replaces was planned (generic plan) as a scan of every version of the
--   task through checkpoints_hash, so it grew with the task's history. The column is derived
--   state: not a dump field (dialect.py), NULL until the task's next write finds it again from
--   its checkpoints (a task of an older store, or one a restore loaded); the other writers of
--   checkpoints (checkpoints.py) keep it too.
-- - The store lock shared, the task's lock and the path's are one statement (the order is as
--   before: nothing is locked between them).
ALTER TABLE tasks ADD COLUMN checkpoint_seq BIGINT;
CREATE OR REPLACE FUNCTION cairn_write_checkpoint(
    p_task TEXT, p_kind TEXT, p_hash TEXT, p_size BIGINT, p_content TEXT, p_phase TEXT,
    p_source TEXT, p_files TEXT, p_ts TEXT, p_path TEXT, p_path_key TEXT,
    p_head TEXT, p_mid TEXT, p_tail TEXT, p_task_lock INTEGER, p_scoped BOOLEAN,
    OUT state TEXT, OUT version BIGINT, OUT seq BIGINT, OUT phase TEXT, OUT event_id BIGINT,
    OUT hash TEXT, OUT size BIGINT, OUT source TEXT, OUT files TEXT, OUT created_at TEXT,
    OUT o_path TEXT, OUT o_task TEXT, OUT o_kind TEXT, OUT o_hash TEXT, OUT o_prev TEXT,
    OUT o_mtime BIGINT, OUT o_size BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    n_hash TEXT;
    n_files TEXT;
BEGIN
    IF p_task_lock IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(6513001, 1), pg_advisory_xact_lock(6513012, p_task_lock),
            pg_advisory_xact_lock(6513008, hashtext(p_path_key));
    ELSIF p_scoped THEN
        PERFORM pg_advisory_xact_lock(6513008, hashtext(p_path_key));
    END IF;
    -- The newest version, as the unchanged case returns it (the OUT columns).
    SELECT c.version, c.hash, c.size, c.phase, c.source, c.files, c.created_at, c.seq
        INTO version, n_hash, size, phase, source, n_files, created_at, seq
        FROM checkpoints c WHERE c.task_id = p_task AND c.kind = p_kind
        ORDER BY c.version DESC LIMIT 1;
    IF FOUND AND n_hash = p_hash AND n_files = p_files THEN
        state := 'unchanged';
        hash := n_hash;
        files := n_files;
    ELSE
        -- The path is claimed first: taken, nothing is written (the caller may commit at once).
        INSERT INTO projections AS pr (path, path_key, task_id, kind, hash, prev_hash)
            VALUES (p_path, p_path_key, p_task, p_kind, p_hash, NULL)
            ON CONFLICT (path_key) DO UPDATE SET
                prev_hash = CASE WHEN pr.mtime_ns IS NULL THEN pr.prev_hash ELSE pr.hash END,
                hash = excluded.hash, mtime_ns = NULL, size = NULL
            WHERE pr.path = excluded.path AND pr.task_id = excluded.task_id
                AND pr.kind = excluded.kind;
        IF FOUND THEN
            state := 'added';
            version := coalesce(version, 0) + 1;
            size := NULL; source := NULL; created_at := NULL;
            phase := coalesce(p_phase, (SELECT ph.name FROM phases ph
                WHERE ph.task_id = p_task AND ph.state = 'active' ORDER BY ph.position LIMIT 1));
            -- The touch gives the task's next sequence number; NULL: not known yet (the
            -- column is new, or a restore loaded the task), found once from its checkpoints.
            UPDATE tasks t SET updated_at = p_ts, checkpoint_seq = t.checkpoint_seq + 1
                WHERE t.id = p_task RETURNING t.checkpoint_seq INTO seq;
            IF seq IS NULL THEN
                seq := coalesce((SELECT c.seq FROM checkpoints c WHERE c.task_id = p_task
                    ORDER BY c.seq DESC LIMIT 1), 0) + 1;
                UPDATE tasks SET checkpoint_seq = cairn_write_checkpoint.seq WHERE id = p_task;
            END IF;
            INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source,
                    files, created_at, seq)
                VALUES (p_task, p_kind, version, p_hash, p_size, p_content, phase, p_source,
                    p_files, p_ts, seq);
            IF p_scoped THEN
                PERFORM pg_advisory_xact_lock(6513001, 3);
            END IF;
            INSERT INTO events (id, ts, task_id, type, data)
                SELECT coalesce(max(e.id), 0) + 1, p_ts, p_task, 'checkpoint.written',
                    p_head || version || p_mid || coalesce(to_json(phase)::text, 'null') || p_tail
                FROM events e
                RETURNING id INTO event_id;
            RETURN;
        END IF;
        state := 'taken';
        version := NULL; size := NULL; phase := NULL; source := NULL; created_at := NULL;
        seq := NULL;
    END IF;
    SELECT pr.path, pr.task_id, pr.kind, pr.hash, pr.prev_hash, pr.mtime_ns, pr.size
        INTO o_path, o_task, o_kind, o_hash, o_prev, o_mtime, o_size
        FROM projections pr WHERE pr.path_key = p_path_key;
END;
$$;
