"""The rules over the store: the workspace, tasks and phases, checkpoints, steps, streams,
reviews, workers, budget. The domain commits and announces what changed; it renders no file."""
