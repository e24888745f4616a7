"""The append-only list of named migrations. Never edit or reorder an entry: add a new one.

Each entry is ``(name, statements)``. The names applied are recorded in ``cairn_migrations``; a
database holding a name this list does not know was written by a newer cairn and is refused.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

_APPEND_ONLY = """
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;
"""

CORE = (
    """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    task_id TEXT,
    type TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX events_task ON events(task_id, id);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    next_action TEXT,
    seq INTEGER NOT NULL
);
CREATE INDEX tasks_updated ON tasks(updated_at);

CREATE TABLE phases (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    gated INTEGER NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    error TEXT,
    PRIMARY KEY (task_id, name)
);
CREATE INDEX phases_state ON phases(state);

CREATE TABLE checkpoints (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    content TEXT NOT NULL,
    phase TEXT,
    source TEXT NOT NULL,
    files TEXT NOT NULL,
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (task_id, kind, version)
);
CREATE INDEX checkpoints_seq ON checkpoints(task_id, seq);

CREATE TABLE steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks(id),
    phase TEXT,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX steps_task ON steps(task_id, id);

CREATE TABLE projections (
    path TEXT PRIMARY KEY,
    path_key TEXT NOT NULL UNIQUE,
    task_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    prev_hash TEXT,
    mtime_ns INTEGER,
    size INTEGER
);
CREATE INDEX projections_task ON projections(task_id, kind);

CREATE TABLE recoveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    trigger TEXT NOT NULL,
    task_id TEXT,
    phase TEXT,
    checkpoint TEXT,
    reloaded TEXT NOT NULL,
    safe_point INTEGER,
    note TEXT,
    last_event INTEGER NOT NULL
);
"""
    + _APPEND_ONLY.format(table="events")
    + _APPEND_ONLY.format(table="checkpoints")
    + _APPEND_ONLY.format(table="recoveries")
)


class Migration:
    """``(name, statements)``, as a pair unpacks; a file's statements are read when first asked
    for, so that opening a store already at the current version reads no ``.sql`` file."""

    __slots__ = ("_path", "_sql", "name")

    def __init__(self, name: str, sql: str | None = None, path: str | None = None) -> None:
        self.name, self._sql, self._path = name, sql, path

    @property
    def sql(self) -> str:
        if self._sql is None:
            assert self._path is not None
            with open(self._path, encoding="utf-8") as file:
                self._sql = file.read()
        return self._sql

    def __getitem__(self, i: int) -> str:
        return (self.name, self.sql)[i] if i else self.name

    def __iter__(self) -> Iterator[str]:
        yield self.name
        yield self.sql

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"Migration({self.name!r})"


def _discover() -> list[Migration]:
    """Migrations after the core one live in ``migrations_sql/NNNN_name.sql``, applied by number.

    Files make it possible for separate features to add their tables without editing a shared
    list; the name (file stem) is what is recorded in the database.
    """
    folder = os.path.join(os.path.dirname(__file__), "migrations_sql")
    try:
        found = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    # Every open lists these (a listing takes a third of a glob's time, whose pattern is compiled
    # anew in each process); only a store that needs one reads it.
    return [
        Migration(f[:-4], path=os.path.join(folder, f))
        for f in found
        if f.endswith(".sql") and f[:4].isdigit() and f[4:5] == "_"
    ]


# Migrations renumbered after they shipped (two branches both took 0010): a store that recorded the
# old name has that migration applied, and the record is renamed when the store next opens.
RENAMED = {"0010_task_life": "0011_task_life"}

MIGRATIONS: list[Migration] = [
    Migration("0001_core", CORE),
    *_discover(),
]
