"""Progress steps in memory."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core import record
from cairn.store.contract import MissingRow
from cairn.store.contract.steps import ProgressDoc, StepLine, StepRow
from cairn.store.memory.state import MemoryState


class MemorySteps:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def add(self, task_id: str, phase: str | None, text: str, state: str, ts: str) -> StepRow:
        step_id = max(self._s.steps, default=0) + 1
        row = StepRow(step_id, task_id, phase, text, state, ts, ts)
        self._s.steps[step_id] = row
        self._s.task_steps[task_id] = [*self._s.task_steps.get(task_id, []), step_id]
        return row

    def update(self, step_id: int, *, state: str, phase: str | None, ts: str) -> StepRow:
        old = self._s.steps.get(step_id)
        if old is None:
            raise MissingRow(f"no step {step_id}")
        row = record.replace(old, state=state, phase=phase, updated_at=ts)
        self._s.steps[step_id] = row
        return row

    def _of(self, task_id: str) -> list[StepRow]:
        return [self._s.steps[i] for i in self._s.task_steps.get(task_id, ())]

    def by_text(self, task_id: str, text: str) -> StepRow | None:
        return next((s for s in reversed(self._of(task_id)) if s.text == text), None)

    def of_task(
        self, task_id: str, *, phase: str | None = None, limit: int | None = None
    ) -> list[StepRow]:
        rows = self._of(task_id)
        if phase is not None:
            rows = [s for s in rows if s.phase == phase]
        return rows[-limit:] if limit else rows

    def open_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepRow]:
        rows = [s for s in self._of(task_id) if s.id < before_id and s.state != "done"]
        return rows[:limit]

    def lines(self, task_id: str, *, limit: int | None = None) -> list[StepLine]:
        return [(s.id, s.state, s.text, s.phase) for s in self.of_task(task_id, limit=limit)]

    def open_lines_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepLine]:
        rows = self.open_before(task_id, before_id, limit=limit)
        return [(s.id, s.state, s.text, s.phase) for s in rows]

    def count(self, task_id: str) -> int:
        return len(self._s.task_steps.get(task_id, ()))

    def tails(self, task_ids: Sequence[str], *, limit: int) -> dict[str, tuple[list[StepRow], int]]:
        return {t: (self.of_task(t, limit=limit), self.count(t)) for t in task_ids}

    def doc(self, task_id: str) -> ProgressDoc | None:
        return self._s.progress_docs.get(task_id)

    def put_doc(self, task_id: str, content: str, hash: str, ts: str) -> None:
        self._s.progress_docs[task_id] = ProgressDoc(task_id, hash, content, ts)
