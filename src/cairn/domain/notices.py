"""What the domain announces after each commit, and the interface of those who listen.

The domain commits, then hands every listener a :class:`Change` naming what changed (with the
committed checkpoint itself, content included, when one was written). It never renders a file. The
readable tree (``cairn.projection``) is the default listener, named here as data, not imported: the
domain works with none (``Workspace.open(..., listeners=())``), and the import graph keeps pointing
down.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


if TYPE_CHECKING:
    from cairn.core.model import Checkpoint

# "module:factory" of the listeners a workspace gets when none are named; each factory takes the
# workspace. The first one is also ``ws.projector`` (the readable tree), for the interfaces.
DEFAULT_LISTENERS: tuple[str, ...] = ("cairn.projection.projector:Projector",)


class Change(Record):
    """One committed change. ``what``: task, phase, checkpoint, review, next, recovery, worker,
    run, budget or other."""

    what: str
    task_id: str | None = None
    kind: str | None = None
    # The version just committed, content included, so that a listener renders it without reading
    # it back; None when the writer did not have it at hand (the listener reads the newest).
    checkpoint: Checkpoint | None = None
    # A review change: the review, and the file of it just recorded (its request or a response).
    review: str | None = None
    path: str | None = None
    # The announcer's caller reads the tree next (a worker's start or end, the end of a durable
    # run): a listener brings it current before ``announce`` returns, not in the background. A
    # batch or a command still renders once, at its end.
    settle: bool = False


class Listener(Protocol):
    """Told of every commit. Nothing here may undo or refuse a commit: it has happened."""

    def committed(self, change: Change) -> None: ...

    def before_write(self, task_id: str, kind: str) -> None:
        """Called before a checkpoint of ``kind`` is written: a hand edit of the file it will
        replace is taken in first, as its own version."""
        ...

    def begin_batch(self) -> None: ...

    def end_batch(self) -> None: ...

    def flush(self) -> None:
        """Bring what this listener keeps current now, in the caller's thread."""
        ...

    def refresh(self) -> None:
        """Rebuild everything from the store (the explicit, full pass)."""
        ...

    def close(self) -> None: ...


class Projection(Listener, Protocol):
    """The readable tree as the interfaces use it (``ws.projector``)."""

    lock_path: Path
    # True: the tree follows a write shortly after, from a background timer (the library);
    # False: only on flush (a command, which flushes once before it returns).
    background: bool

    def reconcile(self, only: tuple[str, str] | None = None) -> list[str]: ...

    def render_status(self) -> None: ...

    def render_recovery_log(self) -> None: ...

    def recovery_log_text(self) -> str: ...

    def target(self, rel: str) -> Path: ...

    def refresh_all(self) -> None: ...

    def _project_artifact(self, task_id: str, kind: str) -> None: ...


class NoProjection:
    """``ws.projector`` of a workspace opened without listeners: no readable tree to keep."""

    def __init__(self, ws: Any) -> None:  # a Workspace (not imported: it imports this module)
        self.lock_path = ws.cairn_dir / "projection.lock"
        self.background = False
        self._root: Path = ws.root

    def committed(self, change: Change) -> None:
        pass

    def before_write(self, task_id: str, kind: str) -> None:
        pass

    def begin_batch(self) -> None:
        pass

    def end_batch(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass

    def reconcile(self, only: tuple[str, str] | None = None) -> list[str]:
        return []

    def render_status(self) -> None:
        pass

    def render_recovery_log(self) -> None:
        pass

    def recovery_log_text(self) -> str:
        return ""

    def target(self, rel: str) -> Path:
        return self._root / rel

    def refresh_all(self) -> None:
        pass

    def _project_artifact(self, task_id: str, kind: str) -> None:
        pass


def load_listeners(ws: Any, specs: Sequence[str]) -> list[Listener]:
    from cairn.core.stdlib_start import import_module

    found: list[Listener] = []
    for spec in specs:
        module, _, factory = spec.partition(":")
        found.append(getattr(import_module(module), factory)(ws))
    return found
