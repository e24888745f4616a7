-- The whole of a checkpoint write in one call (issue 12): the statements a write sent one by one
-- (the version, the artifact path's claim, the task's touch, the journal entry) cost a round trip
-- and a fresh plan each; in a function they are one round trip, planned once per connection.
-- Called on its own (autocommit) it is the whole transaction and its commit; inside a
-- transaction it is one statement of it (store/postgres/checkpoints.py).
--
-- Locks, in the order every write takes them (store/postgres/locks.py, whose keys these are):
-- with p_task_lock, the store's write lock shared and the task's own (a write on its own; NULL:
-- the caller's transaction holds its locks already); with p_scoped, the artifact's path before
-- its row is read or written and the journal before the event, held to the commit so that event
-- ids grow in commit order; the checkpoint count's row at the commit (migration 0005).
--
-- Returns one row: state 'added' (version, seq, phase of the new version, event_id), 'unchanged'
-- (the newest version already has this hash and these files: its columns, and the path's owner,
-- if any), or 'taken' (the path belongs to another task or kind: its owner; nothing is written).
-- The event's data is p_head || version || p_mid || the phase as JSON || p_tail, so that its text
-- is the one the client's JSON encoder would have written.
CREATE FUNCTION cairn_write_checkpoint(
    p_task TEXT, p_kind TEXT, p_hash TEXT, p_size BIGINT, p_content TEXT, p_phase TEXT,
    p_source TEXT, p_files TEXT, p_ts TEXT, p_path TEXT, p_path_key TEXT,
    p_head TEXT, p_mid TEXT, p_tail TEXT, p_task_lock INTEGER, p_scoped BOOLEAN,
    OUT state TEXT, OUT version BIGINT, OUT seq BIGINT, OUT phase TEXT, OUT event_id BIGINT,
    OUT hash TEXT, OUT size BIGINT, OUT source TEXT, OUT files TEXT, OUT created_at TEXT,
    OUT o_path TEXT, OUT o_task TEXT, OUT o_kind TEXT, OUT o_hash TEXT, OUT o_prev TEXT,
    OUT o_mtime BIGINT, OUT o_size BIGINT
) LANGUAGE plpgsql AS $$
DECLARE
    had BOOLEAN;
    n_hash TEXT;
    n_files TEXT;
BEGIN
    IF p_task_lock IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(6513001, 1), pg_advisory_xact_lock(6513012, p_task_lock);
    END IF;
    -- The newest version, as the unchanged case returns it (the OUT columns).
    SELECT c.version, c.hash, c.size, c.phase, c.source, c.files, c.created_at, c.seq
        INTO version, n_hash, size, phase, source, n_files, created_at, seq
        FROM checkpoints c WHERE c.task_id = p_task AND c.kind = p_kind
        ORDER BY c.version DESC LIMIT 1;
    had := FOUND;
    IF p_scoped THEN
        PERFORM pg_advisory_xact_lock(6513008, hashtext(p_path_key));
    END IF;
    IF had AND n_hash = p_hash AND n_files = p_files THEN
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
            seq := (SELECT coalesce(max(c.seq), 0) + 1 FROM checkpoints c WHERE c.task_id = p_task);
            INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source,
                    files, created_at, seq)
                VALUES (p_task, p_kind, version, p_hash, p_size, p_content, phase, p_source,
                    p_files, p_ts, seq);
            UPDATE tasks SET updated_at = p_ts WHERE id = p_task;
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
