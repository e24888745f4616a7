"""Checkpoint versions in memory."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core import record
from cairn.store.contract.checkpoints import CheckpointRow, CheckpointWrite
from cairn.store.memory.state import MemoryState


def _meta(row: CheckpointRow) -> CheckpointRow:
    return record.replace(row, content=None)


class MemoryCheckpoints:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def add(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
    ) -> CheckpointRow:
        versions = self._s.checkpoints.get((task_id, kind), [])
        order = self._s.task_checkpoints.get(task_id, [])
        row = CheckpointRow(
            task_id,
            kind,
            len(versions) + 1,
            hash,
            size,
            phase,
            source,
            tuple(files),
            ts,
            len(order) + 1,
            content,
        )
        self._s.checkpoints[(task_id, kind)] = [*versions, row]
        self._s.task_checkpoints[task_id] = [*order, (kind, row.version)]
        self._s.extra["checkpoint_count"] = self.count() + 1
        return row

    def add_if_changed(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
    ) -> CheckpointRow | None:
        newest = self.newest(task_id, kind, content=False)
        if newest is not None and (newest.hash, newest.files) == (hash, tuple(files)):
            return None
        if phase is None:
            active = (p for p in self._s.phases.get(task_id, ()) if p.state == "active")
            phase = next((p.name for p in active), None)
        return self.add(
            task_id, kind, content, hash=hash, size=size, phase=phase, source=source,
            files=files, ts=ts,
        )  # fmt: skip

    def write(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
        path: str,
        last: bool = False,
    ) -> CheckpointWrite:
        from cairn.store.checkpoint_write import write_in_steps
        from cairn.store.memory.events import MemoryEvents
        from cairn.store.memory.projections import MemoryProjections
        from cairn.store.memory.tasks import MemoryTasks

        return write_in_steps(
            self,
            MemoryProjections(self._s),
            MemoryTasks(self._s),
            MemoryEvents(self._s),
            task_id,
            kind,
            content,
            hash=hash,
            size=size,
            phase=phase,
            source=source,
            files=files,
            ts=ts,
            path=path,
        )

    def newest(self, task_id: str, kind: str, *, content: bool = True) -> CheckpointRow | None:
        versions = self._s.checkpoints.get((task_id, kind))
        if not versions:
            return None
        return versions[-1] if content else _meta(versions[-1])

    def get(self, task_id: str, kind: str, version: int) -> CheckpointRow | None:
        versions = self._s.checkpoints.get((task_id, kind), [])
        return versions[version - 1] if 1 <= version <= len(versions) else None

    def version_range(self, task_id: str, kind: str) -> tuple[int, int] | None:
        versions = self._s.checkpoints.get((task_id, kind))
        return (versions[0].version, versions[-1].version) if versions else None

    def history(self, task_id: str, kind: str) -> list[CheckpointRow]:
        return [_meta(r) for r in self._s.checkpoints.get((task_id, kind), ())]

    def kinds(self, task_id: str) -> list[str]:
        return sorted({k for k, _ in self._s.task_checkpoints.get(task_id, ())})

    def newest_each_kind(self, task_id: str) -> list[CheckpointRow]:
        rows = [self._s.checkpoints[(task_id, k)][-1] for k in self.kinds(task_id)]
        return [_meta(r) for r in sorted(rows, key=lambda r: r.seq)]

    def newest_of_task(
        self, task_id: str, *, exclude: Sequence[str] = (), content: bool = True
    ) -> CheckpointRow | None:
        for kind, version in reversed(self._s.task_checkpoints.get(task_id, [])):
            if kind not in exclude:
                row = self._s.checkpoints[(task_id, kind)][version - 1]
                return row if content else _meta(row)
        return None

    def by_hash(self, task_id: str, kind: str, hash: str) -> CheckpointRow | None:
        for row in reversed(self._s.checkpoints.get((task_id, kind), [])):
            if row.hash == hash:
                return _meta(row)
        return None

    def of_phase_exists(self, task_id: str, phase: str) -> bool:
        if self._s.checkpoints.get((task_id, phase)):
            return True
        return any(
            r.phase == phase
            for (t, _), rows in self._s.checkpoints.items()
            if t == task_id
            for r in rows
        )

    def newest_of_tasks(
        self, task_ids: Sequence[str], *, exclude: Sequence[str] = (), content: bool = True
    ) -> dict[str, CheckpointRow]:
        found = ((t, self.newest_of_task(t, exclude=exclude, content=content)) for t in task_ids)
        return {t: row for t, row in found if row is not None}

    def count(self) -> int:
        return int(self._s.extra.get("checkpoint_count", 0))

    def count_by_source(self, source: str) -> int:
        return sum(1 for vs in self._s.checkpoints.values() for r in vs if r.source == source)
