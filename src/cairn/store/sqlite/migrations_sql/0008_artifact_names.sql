-- Artifact names: a '_' in a task id is now written twice in the file name (a_b + progress is
-- artifacts/a__b_progress.md), so that names of different tasks can no longer collide. Ids without
-- '_' keep their names. The files are renamed by the workspace when it next opens (a store
-- migration cannot move files): this leaves it a note when there is something to rename.
INSERT INTO meta (key, value)
SELECT 'artifact_names', 'rename'
WHERE EXISTS (SELECT 1 FROM projections WHERE task_id LIKE '%\_%' ESCAPE '\');
