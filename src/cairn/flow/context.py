"""What a phase function receives: :class:`PhaseContext`, scoped to one task and one phase."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core.model import Checkpoint, Step

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace


class PhaseContext:
    """The phase's view of the workspace: load earlier checkpoints, write its own, record progress.

    ``attempt`` is 1 on the first run of the phase and 2 or more when it runs again after its process
    died (or after it failed). ``steps`` holds the progress steps this phase recorded so far, in this
    attempt and the earlier ones, so a re-run can see what its previous attempt already did.
    """

    def __init__(
        self,
        ws: Workspace,
        task_id: str,
        phase: str,
        attempt: int,
        result_of: Callable[[str], Any],
    ) -> None:
        self.workspace = ws
        self.task_id = task_id
        self.phase = phase
        self.attempt = attempt
        self._result_of = result_of
        self.earlier_steps: tuple[Step, ...] = tuple(self.steps)

    def __repr__(self) -> str:
        return f"PhaseContext(task={self.task_id!r}, phase={self.phase!r}, attempt={self.attempt})"

    # -- reading ---------------------------------------------------------------------------------
    def load(self, kind: str) -> str:
        """The content of this task's newest checkpoint of ``kind`` (read from the store).

        Raises :class:`cairn.core.errors.NotFound` naming the kinds that do exist when there is none.
        """
        return self.load_checkpoint(kind).content or ""

    def load_checkpoint(self, kind: str, version: int | None = None) -> Checkpoint:
        return self.workspace.checkpoint(self.task_id, kind, version)

    def result(self, phase: str) -> Any:
        """What an earlier, finished phase of this task returned (as recorded when it finished)."""
        return self._result_of(phase)

    @property
    def steps(self) -> list[Step]:
        """Progress steps recorded under this phase, oldest first (earlier attempts included)."""
        return self.workspace.steps(self.task_id, phase=self.phase)

    def done(self, text: str) -> bool:
        """Whether a step with this text is recorded as done in this phase (for resumable loops)."""
        text = text.strip()
        return any(s.text == text and s.state == "done" for s in self.steps)

    def path(self, rel: str) -> Path:
        """A path inside the workspace (anything outside it is refused)."""
        return self.workspace.path(rel)

    # -- writing ---------------------------------------------------------------------------------
    def checkpoint(self, kind: str, text: str | bytes, *, files: Sequence[str] = ()) -> Checkpoint:
        """Write a checkpoint of ``kind`` durably; return it from the phase to make it the result."""
        return self.workspace.write_checkpoint(
            self.task_id, kind, text, files=files, phase=self.phase
        )

    def progress(self, text: str, state: str = "done") -> Step:
        """Record one step of incremental progress (done ✅, active ⏳, todo ⏸️, failed ❌)."""
        return self.workspace.progress(self.task_id, text, state, phase=self.phase)

    def next(self, text: str) -> None:
        """Set the task's next action (shown in the status file and the recovery brief)."""
        self.workspace.set_next(self.task_id, text)

    # -- streams and workers ---------------------------------------------------------------------
    def stream(self, path: str, key: Callable[[Any], Any], **options: Any) -> Any:
        """A resumable JSONL stream under this task: see :func:`cairn.domain.streams.open_stream`."""
        return open_task_stream(self.workspace, self.task_id, path, key, **options)

    def spawn_many(self, workers: Sequence[Any], *, max_parallel: int = 3) -> list[Any]:
        """Run worker subagents in parallel under this task: see :func:`cairn.domain.workers.spawn_many`."""
        return spawn_task_workers(self.workspace, self.task_id, workers, max_parallel=max_parallel)


def open_task_stream(
    ws: Workspace, task_id: str, path: str, key: Callable[[Any], Any], **options: Any
) -> Any:
    module = importlib.import_module("cairn.domain.streams")
    return module.open_stream(ws, path, key, task_id=task_id, **options)


def spawn_task_workers(
    ws: Workspace, task_id: str, workers: Sequence[Any], *, max_parallel: int = 3
) -> list[Any]:
    module = importlib.import_module("cairn.domain.workers")
    results: list[Any] = module.spawn_many(ws, task_id, list(workers), max_parallel=max_parallel)
    return results
