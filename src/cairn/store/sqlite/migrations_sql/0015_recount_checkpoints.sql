-- A store copied back from PostgreSQL took on the count of checkpoint versions that a restore
-- into PostgreSQL had counted twice (see the PostgreSQL store's migration 0008): counted again,
-- once, from its records.
UPDATE meta SET value = CAST((SELECT count(*) FROM checkpoints) AS TEXT) WHERE key = 'checkpoint_versions';
