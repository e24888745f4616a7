"""Keeps ``CURRENT_WORK_STATUS.md`` current while ``task.run()`` works, without paying per phase.

Rendering the status file reads much of the store and replaces a file; doing that at every phase
boundary would cost more than the phase's durable commits. Instead, a phase start *arms* a timer:
if the phase is still running ``delay`` seconds later, the status is rendered then (from a second
store connection, in a background thread), so a long phase shows as active ⏳ within ``delay``
seconds. A phase that ends sooner never pays for it; ``run()`` renders the final status itself.
Renders are serialized by the projection lock and each reads the newest committed state, so a late
background render can never put an older state on disk.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.errors import CairnError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

STATUS_DELAY_S = 0.5

# Held during every background render. A fork (worker subagents are forked children) waits for it,
# so a child never starts as a copy taken while the render thread held SQLite's or the store's locks.
_RENDERING = threading.Lock()
os.register_at_fork(
    before=_RENDERING.acquire,
    after_in_parent=_RENDERING.release,
    after_in_child=_RENDERING.release,
)


class StatusRefresher:
    def __init__(
        self, root: Path, listeners: Sequence[str] | None = None, delay: float | None = None
    ) -> None:
        self.root = root
        # The run's workspace's listeners, by name: a run with no projector renders nothing.
        self.listeners = listeners
        self.delay = STATUS_DELAY_S if delay is None else delay
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        self._ws: Workspace | None = None

    def arm(self) -> None:
        """Render the status ``delay`` seconds from now unless :meth:`disarm` comes first."""
        with self._cond:
            self._deadline = time.monotonic() + self.delay
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="cairn-status", daemon=True)
                self._thread.start()
            self._cond.notify()

    def disarm(self) -> None:
        with self._cond:
            self._deadline = None

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (
                    self._deadline is None or time.monotonic() < self._deadline
                ):
                    wait = None if self._deadline is None else self._deadline - time.monotonic()
                    self._cond.wait(wait)
                if self._stop:
                    return
                self._deadline = None
            self._render()

    def _render(self) -> None:
        from cairn.domain.workspace import Workspace

        try:
            with _RENDERING:
                if self._ws is None:
                    self._ws = Workspace.open(self.root, search=False, listeners=self.listeners)
                self._ws.projector.render_status()
        except (CairnError, OSError):
            # Best effort: the store is the truth, and run() renders the status itself at its end
            # (where a real problem surfaces in the caller's thread).
            pass
