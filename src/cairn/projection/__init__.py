"""The readable tree rendered from committed changes: artifacts, the status file, review files,
the recovery log; hand edits noticed and ingested."""
