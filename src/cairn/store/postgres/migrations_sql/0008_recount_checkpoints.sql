-- A restore (`cairn store copy` / `import`) into PostgreSQL counted its checkpoint versions twice:
-- the dump's count and, at the commit, the deferred trigger's (migration 0005) for every version
-- it loaded. Restores now run that trigger at each insert; a store restored before is counted
-- again, once, from its records.
UPDATE meta SET value = (SELECT count(*) FROM checkpoints)::text WHERE key = 'checkpoint_versions';
