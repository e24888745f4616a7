-- The life of a task (as SQLite's 0011_task_life): archived and deleted tasks, and renaming one.
ALTER TABLE tasks ADD COLUMN state TEXT COLLATE "C" NOT NULL DEFAULT 'open';
ALTER TABLE tasks ADD COLUMN state_at TEXT COLLATE "C";
CREATE INDEX tasks_state ON tasks(state, updated_at);

-- A rename moves every record of a task to its new id. The references to tasks(id) are checked
-- at commit then (SET CONSTRAINTS ALL DEFERRED in that transaction only), once every table moved.
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
             WHERE contype = 'f' AND confrelid = 'tasks'::regclass LOOP
        EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE',
                       c.tbl, c.conname);
    END LOOP;
END $$;

-- The append-only tables still refuse every change but that of the name a row is filed under.
CREATE FUNCTION cairn_append_only_but_task_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'task_id') IS DISTINCT FROM (to_jsonb(OLD) - 'task_id') THEN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END;
$$;
DROP TRIGGER events_append_only ON events;
DROP TRIGGER checkpoints_append_only ON checkpoints;
DROP TRIGGER recoveries_append_only ON recoveries;
DROP TRIGGER budget_ledger_append_only ON budget_ledger;
DROP TRIGGER agent_compactions_append_only ON agent_compactions;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER recoveries_no_delete BEFORE DELETE ON recoveries
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER budget_ledger_no_delete BEFORE DELETE ON budget_ledger
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER agent_compactions_no_delete BEFORE DELETE ON agent_compactions
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only();
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only_but_task_id();
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only_but_task_id();
CREATE TRIGGER recoveries_no_update BEFORE UPDATE ON recoveries
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only_but_task_id();
CREATE TRIGGER budget_ledger_no_update BEFORE UPDATE ON budget_ledger
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only_but_task_id();
CREATE TRIGGER agent_compactions_no_update BEFORE UPDATE ON agent_compactions
    FOR EACH ROW EXECUTE FUNCTION cairn_append_only_but_task_id();
