"""Progress steps on SQLite."""

from __future__ import annotations

import sqlite3

from cairn.store.contract import MissingRow
from cairn.store.contract.steps import ProgressDoc, StepLine, StepRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


_COLS = "id, task_id, phase, text, state, created_at, updated_at"


def _row(r: dict[str, Any]) -> StepRow:
    return StepRow(
        r["id"], r["task_id"], r["phase"], r["text"], r["state"], r["created_at"], r["updated_at"]
    )


def _rows(cur: sqlite3.Cursor) -> list[StepRow]:
    """The rows as tuples (``_COLS`` is StepRow's field order): every step renders the progress
    file's view of up to 200 steps, and building a dict per row first was most of its cost."""
    cur.row_factory = None
    return [StepRow(*r) for r in cur]


class SQLiteSteps:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def add(self, task_id: str, phase: str | None, text: str, state: str, ts: str) -> StepRow:
        # The id is the contract's (max + 1 under the write lock), not the backend's rowid.
        step_id = int(
            self._c.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM steps").fetchone()["n"]
        )
        self._c.execute(
            "INSERT INTO steps (id, task_id, phase, text, state, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (step_id, task_id, phase, text, state, ts, ts),
        )
        self._c.execute("UPDATE tasks SET step_count = step_count + 1 WHERE id = ?", (task_id,))
        return StepRow(step_id, task_id, phase, text, state, ts, ts)

    def update(self, step_id: int, *, state: str, phase: str | None, ts: str) -> StepRow:
        cur = self._c.execute(
            "UPDATE steps SET state = ?, updated_at = ?, phase = ? WHERE id = ?",
            (state, ts, phase, step_id),
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no step {step_id}")
        r = self._c.execute(f"SELECT {_COLS} FROM steps WHERE id = ?", (step_id,)).fetchone()
        return _row(r)

    def by_text(self, task_id: str, text: str) -> StepRow | None:
        r = self._c.execute(
            f"SELECT {_COLS} FROM steps WHERE task_id = ? AND text = ? ORDER BY id DESC LIMIT 1",
            (task_id, text),
        ).fetchone()
        return _row(r) if r else None

    def of_task(
        self, task_id: str, *, phase: str | None = None, limit: int | None = None
    ) -> list[StepRow]:
        where, params = "task_id = ?", [task_id]
        if phase is not None:
            where += " AND phase = ?"
            params.append(phase)
        if limit:
            rows = _rows(
                self._c.execute(
                    f"SELECT {_COLS} FROM steps WHERE {where} ORDER BY id DESC LIMIT ?",
                    (*params, limit),
                )
            )
            rows.reverse()
            return rows
        return _rows(
            self._c.execute(f"SELECT {_COLS} FROM steps WHERE {where} ORDER BY id", params)
        )

    def open_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepRow]:
        return _rows(
            self._c.execute(
                f"SELECT {_COLS} FROM steps WHERE task_id = ? AND state != 'done' AND id < ? "
                "ORDER BY id LIMIT ?",
                (task_id, before_id, limit),
            )
        )

    def lines(self, task_id: str, *, limit: int | None = None) -> list[StepLine]:
        if limit:
            cur = self._c.execute(
                "SELECT id, state, text, phase FROM steps WHERE task_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (task_id, limit),
            )
            cur.row_factory = None
            rows: list[StepLine] = cur.fetchall()
            rows.reverse()
            return rows
        cur = self._c.execute(
            "SELECT id, state, text, phase FROM steps WHERE task_id = ? ORDER BY id", (task_id,)
        )
        cur.row_factory = None
        return list(cur.fetchall())

    def open_lines_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepLine]:
        cur = self._c.execute(
            "SELECT id, state, text, phase FROM steps WHERE task_id = ? AND state != 'done' "
            "AND id < ? ORDER BY id LIMIT ?",
            (task_id, before_id, limit),
        )
        cur.row_factory = None
        return list(cur.fetchall())

    def count(self, task_id: str) -> int:
        r = self._c.execute("SELECT step_count FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return int(r["step_count"]) if r else 0

    def tails(self, task_ids: Sequence[str], *, limit: int) -> dict[str, tuple[list[StepRow], int]]:
        # Two index searches each: a query costs no round trip here.
        return {t: (self.of_task(t, limit=limit), self.count(t)) for t in task_ids}

    def doc(self, task_id: str) -> ProgressDoc | None:
        r = self._c.execute(
            "SELECT task_id, hash, content, updated_at FROM progress_docs WHERE task_id = ?",
            (task_id,),
        ).fetchone()
        return ProgressDoc(r["task_id"], r["hash"], r["content"], r["updated_at"]) if r else None

    def put_doc(self, task_id: str, content: str, hash: str, ts: str) -> None:
        self._c.execute(
            "INSERT INTO progress_docs (task_id, hash, content, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (task_id) DO UPDATE SET hash = excluded.hash, content = "
            "excluded.content, updated_at = excluded.updated_at",
            (task_id, hash, content, ts),
        )
