"""Domain values: frozen records (:mod:`cairn.core.record`) that the library returns and the CLI
renders."""

from __future__ import annotations

from typing import Any

from cairn.core.record import Record, asdict, assign

PHASE_STATES = ("pending", "active", "done", "failed", "blocked")
STEP_STATES = {"done": "✅", "active": "⏳", "todo": "⏸️", "failed": "❌"}
PHASE_ICONS = {"pending": "⏸️", "active": "⏳", "done": "✅", "failed": "❌", "blocked": "⛔"}
CHECKPOINT_SOURCES = ("write", "hand-edit", "progress", "review")


class Phase(Record):
    """A phase of a task: pending, active, done, failed or blocked."""

    __slots__ = (  # noqa: RUF023
        "name",
        "position",
        "state",
        "gated",
        "started_at",
        "finished_at",
        "error",
    )
    name: str
    position: int
    state: str
    gated: bool
    started_at: str | None
    finished_at: str | None
    error: str | None

    def __init__(
        self,
        name: str,
        position: int,
        state: str,
        gated: bool = False,
        started_at: str | None = None,
        finished_at: str | None = None,
        error: str | None = None,
    ) -> None:
        assign(self, "name", name)
        assign(self, "position", position)
        assign(self, "state", state)
        assign(self, "gated", gated)
        assign(self, "started_at", started_at)
        assign(self, "finished_at", finished_at)
        assign(self, "error", error)

    @property
    def icon(self) -> str:
        return PHASE_ICONS[self.state]


class Task(Record):
    """A task and its phases, in order."""

    __slots__ = ("id", "title", "created_at", "updated_at", "next_action", "phases")  # noqa: RUF023
    id: str
    title: str
    created_at: str
    updated_at: str
    next_action: str | None
    phases: tuple[Phase, ...]

    def __init__(
        self,
        id: str,
        title: str,
        created_at: str,
        updated_at: str,
        next_action: str | None,
        phases: tuple[Phase, ...] = (),
    ) -> None:
        assign(self, "id", id)
        assign(self, "title", title)
        assign(self, "created_at", created_at)
        assign(self, "updated_at", updated_at)
        assign(self, "next_action", next_action)
        assign(self, "phases", phases)

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

    __slots__ = (  # noqa: RUF023
        "task_id",
        "kind",
        "version",
        "hash",
        "size",
        "phase",
        "source",
        "files",
        "created_at",
        "path",
        "content",
        "unchanged",
    )
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
    content: str | None
    # True when a write found this content already the newest version and stored nothing.
    unchanged: bool

    def __init__(
        self,
        task_id: str,
        kind: str,
        version: int,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: tuple[str, ...],
        created_at: str,
        path: str,
        content: str | None = None,
        unchanged: bool = False,
    ) -> None:
        assign(self, "task_id", task_id)
        assign(self, "kind", kind)
        assign(self, "version", version)
        assign(self, "hash", hash)
        assign(self, "size", size)
        assign(self, "phase", phase)
        assign(self, "source", source)
        assign(self, "files", files)
        assign(self, "created_at", created_at)
        assign(self, "path", path)
        assign(self, "content", content)
        assign(self, "unchanged", unchanged)

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

    __slots__ = (  # noqa: RUF023
        "id",
        "task_id",
        "phase",
        "text",
        "state",
        "created_at",
        "updated_at",
    )
    id: int
    task_id: str
    phase: str | None
    text: str
    state: str
    created_at: str
    updated_at: str

    def __init__(
        self,
        id: int,
        task_id: str,
        phase: str | None,
        text: str,
        state: str,
        created_at: str,
        updated_at: str,
    ) -> None:
        assign(self, "id", id)
        assign(self, "task_id", task_id)
        assign(self, "phase", phase)
        assign(self, "text", text)
        assign(self, "state", state)
        assign(self, "created_at", created_at)
        assign(self, "updated_at", updated_at)

    @property
    def icon(self) -> str:
        return STEP_STATES[self.state]


class Event(Record):
    """One entry of the journal."""

    __slots__ = ("id", "ts", "task_id", "type", "data")  # noqa: RUF023
    id: int
    ts: str
    task_id: str | None
    type: str
    data: dict[str, Any]

    def __init__(
        self, id: int, ts: str, task_id: str | None, type: str, data: dict[str, Any]
    ) -> None:
        assign(self, "id", id)
        assign(self, "ts", ts)
        assign(self, "task_id", task_id)
        assign(self, "type", type)
        assign(self, "data", data)


class Recovery(Record):
    """One recovery, as the recovery log lists it."""

    __slots__ = (  # noqa: RUF023
        "id",
        "ts",
        "trigger",
        "task_id",
        "phase",
        "checkpoint",
        "reloaded",
        "safe_point",
        "note",
    )
    id: int
    ts: str
    trigger: str
    task_id: str | None
    phase: str | None
    checkpoint: str | None
    reloaded: tuple[str, ...]
    safe_point: bool | None
    note: str | None

    def __init__(
        self,
        id: int,
        ts: str,
        trigger: str,
        task_id: str | None,
        phase: str | None,
        checkpoint: str | None,
        reloaded: tuple[str, ...],
        safe_point: bool | None,
        note: str | None,
    ) -> None:
        assign(self, "id", id)
        assign(self, "ts", ts)
        assign(self, "trigger", trigger)
        assign(self, "task_id", task_id)
        assign(self, "phase", phase)
        assign(self, "checkpoint", checkpoint)
        assign(self, "reloaded", reloaded)
        assign(self, "safe_point", safe_point)
        assign(self, "note", note)
