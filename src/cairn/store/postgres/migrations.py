"""The PostgreSQL store's own migrations: ``migrations_sql/NNNN_name.sql``, applied in order and
recorded in ``cairn_migrations``. Append-only: never edit an applied file, add a new one.

The SQLite store's names are not reused: this backend started from the SQLite schema as it stood
at its 0009, written once as ``0001_schema``."""

from __future__ import annotations

from pathlib import Path


def _discover() -> list[tuple[str, str]]:
    folder = Path(__file__).with_name("migrations_sql")
    found = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql")) if folder.is_dir() else []
    return [(f.stem, f.read_text(encoding="utf-8")) for f in found]


MIGRATIONS: list[tuple[str, str]] = _discover()
