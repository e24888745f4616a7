"""Tasks and phases on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from cairn.core.names import task_key
from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.tasks import PhaseRow, TaskRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_TASK_COLS = "id, title, created_at, updated_at, next_action, seq, state"
_T_COLS = "t.id, t.title, t.created_at, t.updated_at, t.next_action, t.seq, t.state"
_PHASE_COLS = "task_id, name, position, state, gated, started_at, finished_at, error"


def _task(r: dict[str, Any]) -> TaskRow:
    return TaskRow(
        r["id"], r["title"], r["created_at"], r["updated_at"], r["next_action"], r["seq"],
        r["state"],
    )  # fmt: skip


def _phase(r: dict[str, Any]) -> PhaseRow:
    return PhaseRow(
        r["task_id"],
        r["name"],
        r["position"],
        r["state"],
        bool(r["gated"]),
        r["started_at"],
        r["finished_at"],
        r["error"],
    )


def _limit(limit: int | None) -> tuple[str, tuple[int, ...]]:
    return (" LIMIT ?", (limit,)) if limit else ("", ())


class SQLiteTasks:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def get(self, task_id: str) -> TaskRow | None:
        r = self._c.execute(
            f"SELECT {_TASK_COLS} FROM tasks WHERE key = ?", (task_key(task_id),)
        ).fetchone()
        return _task(r) if r else None

    def create(self, task_id: str, title: str, ts: str) -> TaskRow:
        if self.get(task_id) is not None:
            raise DuplicateKey(f"task key {task_key(task_id)!r} exists")
        seq = int(
            self._c.execute("SELECT coalesce(max(seq), 0) + 1 AS n FROM tasks").fetchone()["n"]
        )
        self._c.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (task_id, task_key(task_id), title, ts, ts, seq),
        )
        return TaskRow(task_id, title, ts, ts, None, seq)

    def recent(self, *, limit: int | None = None) -> list[TaskRow]:
        extra, params = _limit(limit)
        rows = self._c.execute(
            f"SELECT {_TASK_COLS} FROM tasks WHERE state = 'open' "
            "ORDER BY updated_at DESC, seq DESC" + extra,
            params,
        )
        return [_task(r) for r in rows]

    def count(self) -> int:
        sql = "SELECT count(*) AS n FROM tasks WHERE state = 'open'"
        return int(self._c.execute(sql).fetchone()["n"])

    def get_many(self, task_ids: Sequence[str]) -> dict[str, TaskRow]:
        # One search of the key index each: a query costs no round trip here.
        found = ((t, self.get(t)) for t in task_ids)
        return {t: row for t, row in found if row is not None and row.id == t}

    def archived(self, *, limit: int | None = None) -> list[TaskRow]:
        extra, params = _limit(limit)
        rows = self._c.execute(
            f"SELECT {_TASK_COLS} FROM tasks WHERE state = 'archived' "
            "ORDER BY state_at DESC, seq DESC" + extra,
            params,
        )
        return [_task(r) for r in rows]

    def set_state(self, task_id: str, state: str, ts: str) -> TaskRow:
        cur = self._c.execute(
            "UPDATE tasks SET state = ?, state_at = ? WHERE id = ?", (state, ts, task_id)
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no task {task_id!r}")
        row = self.get(task_id)
        assert row is not None
        return row

    def rename(self, task_id: str, new_id: str) -> TaskRow:
        other = self.get(new_id)
        if other is not None and other.id != task_id:
            raise DuplicateKey(f"task key {task_key(new_id)!r} exists")
        # The children point at tasks(id): checked at commit, once every table has moved.
        self._c.execute("PRAGMA defer_foreign_keys = ON")
        cur = self._c.execute(
            "UPDATE tasks SET id = ?, key = ? WHERE id = ?", (new_id, task_key(new_id), task_id)
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no task {task_id!r}")
        tables = [
            r["name"]
            for r in self._c.execute(
                "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND EXISTS "
                "(SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'task_id')"
            )
        ]
        for table in tables:
            self._c.execute(
                f'UPDATE "{table}" SET task_id = ? WHERE task_id = ?', (new_id, task_id)
            )
        row = self.get(new_id)
        assert row is not None
        return row

    def active(self, *, limit: int | None = None) -> list[TaskRow]:
        extra, params = _limit(limit)
        rows = self._c.execute(
            # IN, not a correlated EXISTS: the set comes from the index on the phase state, so
            # the cost follows the active tasks, not every task. The unary + keeps SQLite from
            # walking every open task by the (state, updated_at) index instead (14 ms at 10,000).
            f"SELECT {_T_COLS} FROM tasks t WHERE t.id IN (SELECT p.task_id FROM phases p "
            "WHERE p.state = 'active') AND +t.state = 'open' "
            "ORDER BY t.updated_at DESC, t.seq DESC" + extra,
            params,
        )
        return [_task(r) for r in rows]

    def unfinished(self, *, limit: int | None = None, phaseless: bool = False) -> list[TaskRow]:
        extra, params = _limit(limit)
        where = "EXISTS (SELECT 1 FROM phases p WHERE p.task_id = t.id AND p.state != 'done')"
        if phaseless:
            where += " OR NOT EXISTS (SELECT 1 FROM phases p2 WHERE p2.task_id = t.id)"
        rows = self._c.execute(
            f"SELECT {_T_COLS} FROM tasks t WHERE ({where}) AND t.state = 'open' "
            "ORDER BY t.updated_at DESC, t.seq DESC" + extra,
            params,
        )
        return [_task(r) for r in rows]

    def touch(self, task_id: str, ts: str) -> None:
        self._c.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", (ts, task_id))

    def set_next_action(self, task_id: str, text: str | None, ts: str) -> None:
        self._c.execute(
            "UPDATE tasks SET next_action = ?, updated_at = ? WHERE id = ?", (text, ts, task_id)
        )

    # -- phases ----------------------------------------------------------------------------------
    def phases(self, task_id: str) -> list[PhaseRow]:
        rows = self._c.execute(
            f"SELECT {_PHASE_COLS} FROM phases WHERE task_id = ? ORDER BY position", (task_id,)
        )
        return [_phase(r) for r in rows]

    def phases_of(self, task_ids: Sequence[str]) -> dict[str, list[PhaseRow]]:
        out: dict[str, list[PhaseRow]] = {t: [] for t in task_ids}
        if not task_ids:
            return out
        marks = ",".join("?" * len(task_ids))
        for r in self._c.execute(
            f"SELECT {_PHASE_COLS} FROM phases WHERE task_id IN ({marks}) "
            "ORDER BY task_id, position",
            list(task_ids),
        ):
            out[r["task_id"]].append(_phase(r))
        return out

    def phase(self, task_id: str, name: str) -> PhaseRow | None:
        r = self._c.execute(
            f"SELECT {_PHASE_COLS} FROM phases WHERE task_id = ? AND name = ?", (task_id, name)
        ).fetchone()
        return _phase(r) if r else None

    def add_phase(self, task_id: str, name: str, *, gated: bool) -> PhaseRow:
        if self.phase(task_id, name) is not None:
            raise DuplicateKey(f"task {task_id!r} has a phase {name!r}")
        pos = int(
            self._c.execute(
                "SELECT coalesce(max(position), 0) + 1 AS n FROM phases WHERE task_id = ?",
                (task_id,),
            ).fetchone()["n"]
        )
        self._c.execute(
            "INSERT INTO phases (task_id, name, position, state, gated) VALUES (?, ?, ?, ?, ?)",
            (task_id, name, pos, "pending", int(gated)),
        )
        return PhaseRow(task_id, name, pos, "pending", gated, None, None, None)

    def set_phase_state(
        self, task_id: str, name: str, state: str, ts: str, error: str | None = None
    ) -> PhaseRow:
        if state == "active":
            sql = "state = ?, started_at = ?, finished_at = NULL, error = NULL"
            params: tuple[Any, ...] = (state, ts)
        elif state == "pending":
            sql = "state = ?, started_at = NULL, finished_at = NULL, error = NULL"
            params = (state,)
        else:
            sql = "state = ?, finished_at = ?, error = ?"
            params = (state, ts, error)
        cur = self._c.execute(
            f"UPDATE phases SET {sql} WHERE task_id = ? AND name = ?", (*params, task_id, name)
        )
        if cur.rowcount != 1:
            raise MissingRow(f"task {task_id!r} has no phase {name!r}")
        row = self.phase(task_id, name)
        assert row is not None
        return row

    def set_gated(self, task_id: str, name: str, gated: bool) -> None:
        self._c.execute(
            "UPDATE phases SET gated = ? WHERE task_id = ? AND name = ?",
            (int(gated), task_id, name),
        )

    def set_position(self, task_id: str, name: str, position: int) -> None:
        self._c.execute(
            "UPDATE phases SET position = ? WHERE task_id = ? AND name = ?",
            (position, task_id, name),
        )

    def remove_phase(self, task_id: str, name: str) -> None:
        cur = self._c.execute("DELETE FROM phases WHERE task_id = ? AND name = ?", (task_id, name))
        if cur.rowcount != 1:
            raise MissingRow(f"task {task_id!r} has no phase {name!r}")

    def active_phase(self, task_id: str) -> PhaseRow | None:
        r = self._c.execute(
            f"SELECT {_PHASE_COLS} FROM phases WHERE task_id = ? AND state = 'active' "
            "ORDER BY position LIMIT 1",
            (task_id,),
        ).fetchone()
        return _phase(r) if r else None

    def active_phases(self, *, limit: int) -> list[PhaseRow]:
        cols = ", ".join(f"p.{c.strip()}" for c in _PHASE_COLS.split(","))
        rows = self._c.execute(
            f"SELECT {cols} FROM phases p JOIN tasks t ON t.id = p.task_id "
            "WHERE p.state = 'active' AND t.state = 'open' "
            "ORDER BY t.updated_at DESC, t.seq DESC LIMIT ?",
            (limit,),
        )
        return [_phase(r) for r in rows]

    def failed_phases(self, *, limit: int) -> list[PhaseRow]:
        cols = ", ".join(f"p.{c.strip()}" for c in _PHASE_COLS.split(","))
        rows = self._c.execute(
            f"SELECT {cols} FROM phases p JOIN tasks t ON t.id = p.task_id "
            "WHERE p.state = 'failed' AND t.state = 'open' ORDER BY p.finished_at DESC LIMIT ?",
            (limit,),
        )
        return [_phase(r) for r in rows]
