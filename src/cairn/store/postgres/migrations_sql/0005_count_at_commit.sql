-- The checkpoint count in meta is added to at commit (a deferred constraint trigger), not at the
-- insert: its row is the one thing every checkpoint write updates, and a row lock taken at the
-- insert would make writers of different tasks take turns from their insert to their commit.
-- At commit a write scoped to a task already holds the journal's lock, so the count's row is
-- the last lock anyone takes (no waiting in a circle) and is held only for the commit itself.
DROP TRIGGER checkpoints_count ON checkpoints;
CREATE CONSTRAINT TRIGGER checkpoints_count AFTER INSERT ON checkpoints
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cairn_count_checkpoint();
