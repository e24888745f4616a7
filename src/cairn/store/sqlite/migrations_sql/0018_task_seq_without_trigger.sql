-- The task's newest checkpoint seq (0016) had two keepers: the write path, which sets it with the
-- touch every write makes, and a trigger that compared it on every insert for the inserts that
-- bring their own seq (a restore, a copy). Those go through the dump's load, which derives every
-- derived value again once it has loaded (store/sqlite/records._DERIVE), so the trigger only cost
-- each write a look-up of its task row. No other statement inserts checkpoint versions.
DROP TRIGGER checkpoints_task_seq;
