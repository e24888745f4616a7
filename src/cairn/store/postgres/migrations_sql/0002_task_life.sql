-- The life of a task (issue 11), as the SQLite store's 0010_task_life: archived and deleted tasks,
-- and renaming one.
ALTER TABLE tasks ADD COLUMN state TEXT COLLATE "C" NOT NULL DEFAULT 'open';
ALTER TABLE tasks ADD COLUMN state_at TEXT COLLATE "C";
CREATE INDEX tasks_state ON tasks(state, updated_at);

-- A rename moves every record of a task to its new id, the append-only tables included: their
-- trigger now lets an update through when it changes nothing but `task_id` (what was recorded
-- never changes, only the name it is filed under). Compared as whole rows, so a column added
-- later is covered without a new list.
CREATE OR REPLACE FUNCTION cairn_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(OLD) - 'task_id') = (to_jsonb(NEW) - 'task_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

-- The references to tasks(id) are checked at commit during a rename, once every table has moved.
ALTER TABLE phases ALTER CONSTRAINT phases_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE checkpoints ALTER CONSTRAINT checkpoints_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE steps ALTER CONSTRAINT steps_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE progress_docs ALTER CONSTRAINT progress_docs_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE reviews ALTER CONSTRAINT reviews_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE workers ALTER CONSTRAINT workers_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
ALTER TABLE phase_runs ALTER CONSTRAINT phase_runs_task_id_fkey DEFERRABLE INITIALLY IMMEDIATE;
