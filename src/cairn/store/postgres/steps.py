"""Progress steps on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.store.contract import MissingRow
from cairn.store.contract.steps import ProgressDoc, StepLine, StepRow
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn

_COLS = "id, task_id, phase, text, state, created_at, updated_at"


def _row(r: dict[str, Any]) -> StepRow:
    return StepRow(
        r["id"], r["task_id"], r["phase"], r["text"], r["state"], r["created_at"], r["updated_at"]
    )


class PgSteps:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def add(self, task_id: str, phase: str | None, text: str, state: str, ts: str) -> StepRow:
        locks.store_wide(self._c, "steps.add")
        # The id is the contract's (max + 1 under the write lock), not a sequence's; one round trip.
        r = self._c.execute(
            "INSERT INTO steps (id, task_id, phase, text, state, created_at, updated_at) "
            "SELECT coalesce(max(id), 0) + 1, %s, %s, %s, %s, %s, %s FROM steps RETURNING id",
            (task_id, phase, text, state, ts, ts),
        ).fetchone()
        step_id = int(r["id"])
        self._c.execute("UPDATE tasks SET step_count = step_count + 1 WHERE id = %s", (task_id,))
        return StepRow(step_id, task_id, phase, text, state, ts, ts)

    def update(self, step_id: int, *, state: str, phase: str | None, ts: str) -> StepRow:
        locks.store_wide(self._c, "steps.update")
        cur = self._c.execute(
            "UPDATE steps SET state = %s, updated_at = %s, phase = %s WHERE id = %s",
            (state, ts, phase, step_id),
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no step {step_id}")
        r = self._c.execute(f"SELECT {_COLS} FROM steps WHERE id = %s", (step_id,)).fetchone()
        return _row(r)

    def by_text(self, task_id: str, text: str) -> StepRow | None:
        r = self._c.execute(
            # md5: the index is on the text's hash (a long text does not fit a b-tree entry).
            f"SELECT {_COLS} FROM steps WHERE task_id = %s AND md5(text) = md5(%s) AND text = %s "
            "ORDER BY id DESC LIMIT 1",
            (task_id, text, text),
        ).fetchone()
        return _row(r) if r else None

    def of_task(
        self, task_id: str, *, phase: str | None = None, limit: int | None = None
    ) -> list[StepRow]:
        where, params = "task_id = %s", [task_id]
        if phase is not None:
            where += " AND phase = %s"
            params.append(phase)
        if limit:
            rows = self._c.execute(
                f"SELECT {_COLS} FROM steps WHERE {where} ORDER BY id DESC LIMIT %s",
                (*params, limit),
            ).fetchall()
            rows.reverse()
        else:
            rows = self._c.execute(
                f"SELECT {_COLS} FROM steps WHERE {where} ORDER BY id", params
            ).fetchall()
        return [_row(r) for r in rows]

    def open_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepRow]:
        rows = self._c.execute(
            f"SELECT {_COLS} FROM steps WHERE task_id = %s AND state != 'done' AND id < %s "
            "ORDER BY id LIMIT %s",
            (task_id, before_id, limit),
        )
        return [_row(r) for r in rows]

    def lines(self, task_id: str, *, limit: int | None = None) -> list[StepLine]:
        return [(s.id, s.state, s.text, s.phase) for s in self.of_task(task_id, limit=limit)]

    def open_lines_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepLine]:
        rows = self.open_before(task_id, before_id, limit=limit)
        return [(s.id, s.state, s.text, s.phase) for s in rows]

    def count(self, task_id: str) -> int:
        r = self._c.execute("SELECT step_count FROM tasks WHERE id = %s", (task_id,)).fetchone()
        return int(r["step_count"]) if r else 0

    def tails(self, task_ids: Sequence[str], *, limit: int) -> dict[str, tuple[list[StepRow], int]]:
        out: dict[str, tuple[list[StepRow], int]] = {t: ([], 0) for t in task_ids}
        if not task_ids:
            return out
        # One round trip for every task: its counter, and its newest steps by (task, id).
        rows = self._c.execute(
            "SELECT t.id AS tid, t.step_count AS n, s.id, s.task_id, s.phase, s.text, s.state, "
            "s.created_at, s.updated_at FROM tasks t LEFT JOIN LATERAL (SELECT * FROM steps "
            "WHERE task_id = t.id ORDER BY id DESC LIMIT %s) s ON true WHERE t.id = ANY(%s) "
            "ORDER BY t.id, s.id",
            (limit, list(task_ids)),
        )
        for r in rows:
            steps, _ = out[r["tid"]]
            if r["id"] is not None:
                steps.append(_row(r))
            out[r["tid"]] = (steps, int(r["n"]))
        return out

    def doc(self, task_id: str) -> ProgressDoc | None:
        r = self._c.execute(
            "SELECT task_id, hash, content, updated_at FROM progress_docs WHERE task_id = %s",
            (task_id,),
        ).fetchone()
        return ProgressDoc(r["task_id"], r["hash"], r["content"], r["updated_at"]) if r else None

    def put_doc(self, task_id: str, content: str, hash: str, ts: str) -> None:
        locks.store_wide(self._c, "steps.put_doc")
        self._c.execute(
            "INSERT INTO progress_docs (task_id, hash, content, updated_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (task_id) DO UPDATE SET hash = excluded.hash, content = "
            "excluded.content, updated_at = excluded.updated_at",
            (task_id, hash, content, ts),
        )
