-- Leases (issue 12): a running phase or worker holds one, renewed by its process; a lease whose
-- time ran out by the server's clock marks its run as dead from every machine. Instants are
-- seconds since the epoch by the server's clock; released leases are deleted.
CREATE TABLE leases (
    key TEXT COLLATE "C" PRIMARY KEY,
    holder TEXT COLLATE "C" NOT NULL,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    ttl_s DOUBLE PRECISION NOT NULL,
    acquired_at DOUBLE PRECISION NOT NULL,
    renewed_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX leases_expires ON leases(expires_at);

-- Changes reach listeners at once: every statement that journals events notifies the channel
-- `cairn_changes` (delivered at commit; a poller can use tx.meta.change_token() instead).
CREATE FUNCTION cairn_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cairn_changes', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION cairn_notify_change();
