-- The number of checkpoint versions, kept in meta by a trigger: the status (rendered after every
-- command) shows it, and counting hundreds of thousands of rows each time cost more than the rest
-- of the status together. Exact: checkpoints are append-only (no update, no delete).
INSERT INTO meta (key, value) SELECT 'checkpoint_versions', CAST(count(*) AS TEXT) FROM checkpoints;
CREATE TRIGGER checkpoints_count AFTER INSERT ON checkpoints
BEGIN
    UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'checkpoint_versions';
END;
