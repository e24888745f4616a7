"""``cairn.open()``: the entry point of the Python API for long-running scripts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cairn.core import names
from cairn.domain.workspace import Workspace, open_workspace
from cairn.flow.durable import TaskHandle

# Task handles created while `cairn run` loads a workflow file (LOADING > 0); the loader finds
# them here. Outside a load nothing is kept, so a long-lived process does not accumulate handles.
_CREATED: list[TaskHandle] = []
LOADING = 0


class Project:
    """An open workspace, as the Python API sees it.

    ``task(id)`` returns the :class:`TaskHandle` that phases are registered on. Everything else a
    :class:`~cairn.domain.workspace.Workspace` offers (``checkpoint``, ``progress``, ``status`` data …) is
    reachable through ``project.workspace`` and, for convenience, as attributes of the project.
    """

    def __init__(self, ws: Workspace) -> None:
        self.workspace = ws
        self.root = ws.root
        self._tasks: dict[str, TaskHandle] = {}

    def __repr__(self) -> str:
        return f"cairn.Project({str(self.root)!r})"

    def task(
        self, task_id: str, title: str = "", *, phases: Sequence[str] | None = None
    ) -> TaskHandle:
        """The task ``task_id`` (created in the store if new) with its phase registry.

        ``phases`` optionally fixes the run order up front; otherwise phases run in the order their
        functions are registered.
        """
        names.task_id(task_id)
        key = names.task_key(task_id)
        handle = self._tasks.get(key)
        if handle is not None:
            return handle
        self.workspace.create_task(task_id, title, exist_ok=True)
        handle = TaskHandle(self.workspace, task_id, order=phases)
        self._tasks[key] = handle
        if LOADING:
            _CREATED.append(handle)
        return handle

    def close(self) -> None:
        self.workspace.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.workspace, name)


def open(path: str | Path = ".", *, create: bool = True) -> Project:
    """Open the cairn workspace at or above ``path`` (creating it at ``path`` if there is none).

    With ``create=False`` a missing workspace raises :class:`cairn.core.errors.NotAWorkspace`.
    """
    return Project(open_workspace(path, create=create))
