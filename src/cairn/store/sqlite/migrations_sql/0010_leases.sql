-- Leases (issue 12): a running phase or worker holds one, renewed by its process; a lease whose
-- time ran out (by the store's clock) marks its run as dead from any machine. Instants are
-- seconds since the epoch; released leases are deleted, so the table holds only live claims.
CREATE TABLE leases (
    key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    ttl_s REAL NOT NULL,
    acquired_at REAL NOT NULL,
    renewed_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX leases_expires ON leases(expires_at);
