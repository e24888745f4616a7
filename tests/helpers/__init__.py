"""Helpers shared by the core test files (CLI runner, file snapshots)."""
