"""Tasks and phases in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from cairn.core import record
from cairn.core.names import task_key
from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.tasks import PhaseRow, TaskRow
from cairn.store.memory.state import MemoryState

_STATE_AT = "task_state_at"  # task id -> when its state last changed


def _moved(value: Any, old: str, new: str) -> Any:
    """``value`` with every row filed under task ``old`` filed under ``new``: rows (a ``task_id``
    field), and the keys that lead with the task id, ``(task, kind)`` or ``(task, name)``. Copies,
    never changes in place (a reader may hold the committed state)."""
    if isinstance(value, record.Record):
        if getattr(value, "task_id", None) == old:
            return record.replace(value, task_id=new)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if getattr(value, "task_id", None) == old:
            return dataclasses.replace(value, task_id=new)
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, tuple) and k and k[0] == old:
                k = (new, *k[1:])
            elif k == _STATE_AT:
                v = {new if t == old else t: at for t, at in v.items()}
            out[k] = _moved(v, old, new)
        return out
    if isinstance(value, list):
        return [_moved(v, old, new) for v in value]
    if isinstance(value, tuple):
        return tuple(_moved(v, old, new) for v in value)
    return value


class MemoryTasks:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def _by_id(self, task_id: str) -> TaskRow:
        row = self._s.tasks.get(task_key(task_id))
        if row is None or row.id != task_id:
            raise MissingRow(f"no task {task_id!r}")
        return row

    def _recent(self, rows: list[TaskRow], limit: int | None) -> list[TaskRow]:
        rows = [t for t in rows if t.state == "open"]
        rows.sort(key=lambda t: (t.updated_at, t.seq), reverse=True)
        return rows[:limit] if limit else rows

    def _open(self) -> list[TaskRow]:
        return [t for t in self._s.tasks.values() if t.state == "open"]

    def get(self, task_id: str) -> TaskRow | None:
        return self._s.tasks.get(task_key(task_id))

    def create(self, task_id: str, title: str, ts: str) -> TaskRow:
        key = task_key(task_id)
        if key in self._s.tasks:
            raise DuplicateKey(f"task key {key!r} exists")
        seq = max((t.seq for t in self._s.tasks.values()), default=0) + 1
        row = TaskRow(task_id, title, ts, ts, None, seq)
        self._s.tasks[key] = row
        return row

    def recent(self, *, limit: int | None = None) -> list[TaskRow]:
        return self._recent(list(self._s.tasks.values()), limit)

    def count(self) -> int:
        return len(self._open())

    def get_many(self, task_ids: Sequence[str]) -> dict[str, TaskRow]:
        found = ((t, self._s.tasks.get(task_key(t))) for t in task_ids)
        return {t: row for t, row in found if row is not None and row.id == t}

    def archived(self, *, limit: int | None = None) -> list[TaskRow]:
        rows = [t for t in self._s.tasks.values() if t.state == "archived"]
        stamps = self._s.extra.get(_STATE_AT, {})
        rows.sort(key=lambda t: (stamps.get(t.id, ""), t.seq), reverse=True)
        return rows[:limit] if limit else rows

    def set_state(self, task_id: str, state: str, ts: str) -> TaskRow:
        self._replace_task(task_id, state=state)
        self._s.extra[_STATE_AT] = {**self._s.extra.get(_STATE_AT, {}), task_id: ts}
        return self._by_id(task_id)

    def rename(self, task_id: str, new_id: str) -> TaskRow:
        row = self._by_id(task_id)
        other = self.get(new_id)
        if other is not None and other.id != task_id:
            raise DuplicateKey(f"task key {task_key(new_id)!r} exists")
        s = self._s
        del s.tasks[task_key(task_id)]
        s.tasks[task_key(new_id)] = record.replace(row, id=new_id)
        for name in ("phases", "task_checkpoints", "task_steps", "progress_docs"):
            by_task = getattr(s, name)
            if task_id in by_task:
                by_task = dict(by_task)
                by_task[new_id] = _moved(by_task.pop(task_id), task_id, new_id)
                setattr(s, name, by_task)
        for name in ("checkpoints", "steps", "projections", "extra"):
            setattr(s, name, _moved(getattr(s, name), task_id, new_id))
        s.events = _moved(s.events, task_id, new_id)
        s.recoveries = _moved(s.recoveries, task_id, new_id)
        return self._by_id(new_id)

    def active(self, *, limit: int | None = None) -> list[TaskRow]:
        rows = [
            t
            for t in self._s.tasks.values()
            if any(p.state == "active" for p in self._s.phases.get(t.id, ()))
        ]
        return self._recent(rows, limit)

    def unfinished(self, *, limit: int | None = None, phaseless: bool = False) -> list[TaskRow]:
        rows = []
        for t in self._s.tasks.values():
            phases = self._s.phases.get(t.id, [])
            if any(p.state != "done" for p in phases) or (phaseless and not phases):
                rows.append(t)
        return self._recent(rows, limit)

    def _replace_task(self, task_id: str, **changes: object) -> None:
        row = self._by_id(task_id)
        self._s.tasks[task_key(task_id)] = record.replace(row, **changes)

    def touch(self, task_id: str, ts: str) -> None:
        self._replace_task(task_id, updated_at=ts)

    def set_next_action(self, task_id: str, text: str | None, ts: str) -> None:
        self._replace_task(task_id, next_action=text, updated_at=ts)

    # -- phases ----------------------------------------------------------------------------------
    def phases(self, task_id: str) -> list[PhaseRow]:
        return list(self._s.phases.get(task_id, ()))

    def phases_of(self, task_ids: Sequence[str]) -> dict[str, list[PhaseRow]]:
        return {t: self.phases(t) for t in task_ids}

    def phase(self, task_id: str, name: str) -> PhaseRow | None:
        return next((p for p in self._s.phases.get(task_id, ()) if p.name == name), None)

    def add_phase(self, task_id: str, name: str, *, gated: bool) -> PhaseRow:
        self._by_id(task_id)
        if self.phase(task_id, name) is not None:
            raise DuplicateKey(f"task {task_id!r} has a phase {name!r}")
        have = self._s.phases.get(task_id, [])
        pos = max((p.position for p in have), default=0) + 1
        row = PhaseRow(task_id, name, pos, "pending", gated, None, None, None)
        self._s.phases[task_id] = [*have, row]
        return row

    def set_phase_state(
        self, task_id: str, name: str, state: str, ts: str, error: str | None = None
    ) -> PhaseRow:
        old = self.phase(task_id, name)
        if old is None:
            raise MissingRow(f"task {task_id!r} has no phase {name!r}")
        if state == "active":
            new = record.replace(old, state=state, started_at=ts, finished_at=None, error=None)
        elif state == "pending":
            new = record.replace(old, state=state, started_at=None, finished_at=None, error=None)
        else:
            new = record.replace(old, state=state, finished_at=ts, error=error)
        self._s.phases[task_id] = [new if p.name == name else p for p in self._s.phases[task_id]]
        return new

    def _replace_phase(self, task_id: str, name: str, **changes: object) -> None:
        old = self.phase(task_id, name)
        if old is None:
            raise MissingRow(f"task {task_id!r} has no phase {name!r}")
        new = record.replace(old, **changes)
        rows = [new if p.name == name else p for p in self._s.phases[task_id]]
        self._s.phases[task_id] = sorted(rows, key=lambda p: p.position)

    def set_gated(self, task_id: str, name: str, gated: bool) -> None:
        if self.phase(task_id, name) is not None:
            self._replace_phase(task_id, name, gated=gated)

    def set_position(self, task_id: str, name: str, position: int) -> None:
        if self.phase(task_id, name) is not None:
            self._replace_phase(task_id, name, position=position)

    def remove_phase(self, task_id: str, name: str) -> None:
        if self.phase(task_id, name) is None:
            raise MissingRow(f"task {task_id!r} has no phase {name!r}")
        self._s.phases[task_id] = [p for p in self._s.phases[task_id] if p.name != name]

    def active_phase(self, task_id: str) -> PhaseRow | None:
        return next((p for p in self._s.phases.get(task_id, ()) if p.state == "active"), None)

    def active_phases(self, *, limit: int) -> list[PhaseRow]:
        out: list[PhaseRow] = []
        for t in self.active():
            out += [p for p in self._s.phases.get(t.id, ()) if p.state == "active"]
        return out[:limit]

    def failed_phases(self, *, limit: int) -> list[PhaseRow]:
        open_ = {t.id for t in self._open()}
        rows = [
            p for t, ps in self._s.phases.items() if t in open_ for p in ps if p.state == "failed"
        ]
        rows.sort(key=lambda p: p.finished_at or "", reverse=True)
        return rows[:limit]
