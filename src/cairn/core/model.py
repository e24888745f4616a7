"""Domain values: frozen records (:mod:`cairn.core.record`) that the library returns and the CLI
renders."""

from __future__ import annotations

from cairn.core.record import Record, asdict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


PHASE_STATES = ("pending", "active", "done", "failed", "blocked")
STEP_STATES = {"done": "✅", "active": "⏳", "todo": "⏸️", "failed": "❌"}
PHASE_ICONS = {"pending": "⏸️", "active": "⏳", "done": "✅", "failed": "❌", "blocked": "⛔"}
CHECKPOINT_SOURCES = ("write", "hand-edit", "progress", "review")


class Phase(Record):
    """A phase of a task: pending, active, done, failed or blocked."""

    name: str
    position: int
    state: str
    gated: bool = False
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None

    @property
    def icon(self) -> str:
        return PHASE_ICONS[self.state]


class Task(Record):
    """A task and its phases, in order."""

    id: str
    title: str
    created_at: str
    updated_at: str
    next_action: str | None
    phases: tuple[Phase, ...] = ()

    @property
    def state(self) -> str:
        states = [p.state for p in self.phases]
        if not states:
            return "pending"
        if "active" in states:
            return "active"
        if "failed" in states:
            return "failed"
        if all(s == "done" for s in states):
            return "done"
        if "blocked" in states:
            return "blocked"
        return "pending" if "done" not in states else "paused"

    @property
    def current_phase(self) -> Phase | None:
        """The active phase, else the first that is not done."""
        for p in self.phases:
            if p.state == "active":
                return p
        for p in self.phases:
            if p.state != "done":
                return p
        return None

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state
        cur = self.current_phase
        d["current_phase"] = cur.name if cur else None
        return d


class Checkpoint(Record):
    """One version of a checkpoint document (``content`` None when listed without it)."""

    NOT_SHOWN = ("content",)
    NOT_COMPARED = ("unchanged",)
    task_id: str
    kind: str
    version: int
    hash: str
    size: int
    phase: str | None
    source: str
    files: tuple[str, ...]
    created_at: str
    path: str  # the projected artifact, relative to the workspace
    content: str | None = None
    # True when a write found this content already the newest version and stored nothing.
    unchanged: bool = False

    def to_json(self, with_content: bool = True) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = list(self.files)
        if not with_content:
            d.pop("content")
        if not self.unchanged:
            d.pop("unchanged")
        return d


class Step(Record):
    """One line of a task's progress."""

    id: int
    task_id: str
    phase: str | None
    text: str
    state: str
    created_at: str
    updated_at: str

    @property
    def icon(self) -> str:
        return STEP_STATES[self.state]


class Event(Record):
    """One entry of the journal."""

    id: int
    ts: str
    task_id: str | None
    type: str
    data: dict[str, Any]


class Recovery(Record):
    """One recovery, as the recovery log lists it."""

    id: int
    ts: str
    trigger: str
    task_id: str | None
    phase: str | None
    checkpoint: str | None
    reloaded: tuple[str, ...]
    safe_point: bool | None
    note: str | None
