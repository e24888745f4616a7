"""Projection bookkeeping in memory."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core import record
from cairn.store.contract import MissingRow
from cairn.store.contract.projections import ProjectionRow, ProjectionStat
from cairn.store.memory.state import MemoryState


class MemoryProjections:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def get(self, path: str) -> ProjectionRow | None:
        return self._s.projections.get(path)

    def owner(self, path: str) -> ProjectionRow | None:
        key = path.casefold()
        return next((r for p, r in self._s.projections.items() if p.casefold() == key), None)

    def record(self, path: str, task_id: str, kind: str, hash: str) -> None:
        old = self._s.projections.get(path)
        if old is None:
            other = self.owner(path)
            if other is not None:
                from cairn.store.contract import DuplicateKey

                raise DuplicateKey(f"{path} differs only in case from {other.path}")
        prev = None if old is None else (old.hash if old.mtime_ns is not None else old.prev_hash)
        self._s.projections[path] = ProjectionRow(path, task_id, kind, hash, prev, None, None)

    def claim(self, path: str, task_id: str, kind: str, hash: str) -> ProjectionRow | None:
        other = self.owner(path)
        if other is not None and (other.path, other.task_id, other.kind) != (path, task_id, kind):
            return other
        self.record(path, task_id, kind, hash)
        return None

    def set_stat(self, path: str, mtime_ns: int, size: int, *, hash: str | None = None) -> None:
        old = self._s.projections.get(path)
        if old is None or (hash is not None and old.hash != hash):
            return
        self._s.projections[path] = record.replace(old, mtime_ns=mtime_ns, size=size)

    def stats(self, *, task_id: str | None = None, kind: str | None = None) -> list[ProjectionStat]:
        return [
            ProjectionStat(r.path, r.mtime_ns, r.size)
            for r in self._s.projections.values()
            if (task_id is None or r.task_id == task_id) and (kind is None or r.kind == kind)
        ]

    def stats_of_tasks(self, task_ids: Sequence[str]) -> list[ProjectionStat]:
        return [st for t in dict.fromkeys(task_ids) for st in self.stats(task_id=t)]

    def all(self) -> list[ProjectionRow]:
        return list(self._s.projections.values())

    def move(self, old_path: str, new_path: str) -> None:
        old = self._s.projections.pop(old_path, None)
        if old is None:
            raise MissingRow(f"no projection at {old_path}")
        self._s.projections[new_path] = record.replace(old, path=new_path, mtime_ns=None, size=None)

    def forget(self, task_id: str) -> list[str]:
        gone = [p for p, r in self._s.projections.items() if r.task_id == task_id]
        self._s.projections = {p: r for p, r in self._s.projections.items() if r.task_id != task_id}
        return gone
