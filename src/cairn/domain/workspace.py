"""The workspace: a project folder, its settings and its store, and the one object the CLI, MCP,
``flow/`` and the Python API hold. The rules live in ``tasks``, ``checkpoints``, ``steps`` and
``journal``; the methods here keep the names and signatures callers use and delegate to them.

Every change is one durable transaction that also appends to the event journal; after it commits,
the readable tree (artifacts, status file) is projected from the store.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from cairn.core import names, procs
from cairn.core.config import DEFAULT_CONFIG, Config, load_config, record_store
from cairn.core.errors import CairnError, NotAWorkspace, UsageError
from cairn.core.model import Checkpoint, Event, Recovery, Step, Task
from cairn.domain import base as _base
from cairn.domain.base import now
from cairn.domain.layout import (
    CAIRN_DIR,
    CONFIG_NAME,
    DB_NAME,
    find_root,
    is_workspace,
)
from cairn.domain.notices import Change, Listener, Projection
from cairn.store import Row, Store, Tx, open_store
from cairn.store.factory import locate as locate_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core import rules
    from cairn.domain import checkpoints as _checkpoints
    from cairn.domain import journal as _journal
    from cairn.domain import runs as _runs
    from cairn.domain import steps as _steps
    from cairn.domain import tasks as _tasks
    from cairn.domain.checkpoints import content_hash
    from cairn.domain.steps import PROGRESS_FILE_STEPS, STEP_ALIASES
    from cairn.store.contract.runs import PhaseRunRow
else:
    # The rules' modules load when a method first needs them: `cairn status` uses few of them,
    # and each costs its import and its rows' classes at every start-up.
    _checkpoints = _base.LazyModule("cairn.domain.checkpoints")
    _journal = _base.LazyModule("cairn.domain.journal")
    _runs = _base.LazyModule("cairn.domain.runs")  # durable runs only: not at start-up
    _steps = _base.LazyModule("cairn.domain.steps")
    _tasks = _base.LazyModule("cairn.domain.tasks")

    def __getattr__(name: str) -> Any:
        """The names this module re-exports from the rules' modules, loaded on first use."""
        where = {
            "content_hash": _checkpoints,
            "PROGRESS_FILE_STEPS": _steps,
            "STEP_ALIASES": _steps,
        }.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(where, name)


def read_only(store: Store) -> str | None:
    reason = getattr(store, "read_only", None)  # backends that can tell (SQLite) say why
    return reason if isinstance(reason, str) else None


def store_location(cairn_dir: Path, config: Config) -> str | Path:
    """Where the store is: ``$CAIRN_STORE``, else the config's ``[store]``; a URL as it is, a path
    relative to ``.cairn/`` (cairn.store.factory)."""
    return locate_store(cairn_dir, config.store)


# The workspaces of this process still open: a command that ends at once (core/procs.exit_now)
# closes them first, as the interpreter's teardown would have.
_OPEN: weakref.WeakSet[Workspace] = weakref.WeakSet()


def close_all() -> None:
    for ws in list(_OPEN):
        ws.close()


procs.close_before_exit_now(close_all)


class Workspace:
    """A project folder with a cairn store. Open one with :func:`cairn.open` or ``Workspace.open``."""

    def __init__(
        self, root: Path, store: Store, config: Config, *, listeners: Sequence[str] | None = None
    ) -> None:
        from cairn.domain.notices import DEFAULT_LISTENERS, NoProjection, load_listeners

        self.root = root
        self.store = store
        self.config = config
        self.cairn_dir = root / CAIRN_DIR
        # Told of every commit (domain/notices.py); the first is the readable tree. By name, so
        # that a worker process opens the workspace with the same listeners (or none).
        self.listener_specs = tuple(DEFAULT_LISTENERS if listeners is None else listeners)
        self.listeners: list[Listener] = load_listeners(self, self.listener_specs)
        first = self.listeners[0] if self.listeners else NoProjection(self)
        self.projector: Projection = first  # type: ignore[assignment]
        _OPEN.add(self)

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        root: Path | str = ".",
        *,
        listeners: Sequence[str] | None = None,
        store: str | None = None,
    ) -> Workspace:
        """Set up (or re-open) a workspace; ``store`` (a ``postgresql://`` URL) is recorded as its
        ``[store] url`` and created there if new."""
        root = Path(root).resolve()
        if not root.is_dir():
            raise UsageError(f"{root} is not a folder; create it first")
        cdir = root / CAIRN_DIR
        cdir.mkdir(exist_ok=True)
        cfg_path = cdir / CONFIG_NAME
        if not cfg_path.exists():
            cfg_path.write_text(DEFAULT_CONFIG, encoding="utf-8")
        opened: Store | None = None
        if store is not None:
            record_store(cfg_path, store, check_only=True)  # refuse a repoint before creating
            opened = open_store(store, create=True)  # a bad URL fails here, config untouched
            try:
                record_store(cfg_path, store)
            except BaseException:
                opened.close()
                raise
        config = load_config(cfg_path)
        if opened is None:
            opened = open_store(store_location(cdir, config), create=True)
        ws = cls(root, opened, config, listeners=listeners)
        for d in (config.artifacts_dir, config.logs_dir):
            (root / d).mkdir(parents=True, exist_ok=True)
        _checkpoints.migrate_artifact_names(ws)
        ws.refresh()
        return ws

    @classmethod
    def open(
        cls,
        root: Path | str | None = None,
        *,
        search: bool = True,
        listeners: Sequence[str] | None = None,
    ) -> Workspace:
        if root is None or search:
            found = find_root(None if root is None else Path(root))
        else:
            found = Path(root).resolve()
            if not is_workspace(found):
                raise NotAWorkspace(f"{found} is not a cairn workspace; run `cairn init` there")
        cdir = found / CAIRN_DIR
        config = load_config(cdir / CONFIG_NAME)
        store = open_store(store_location(cdir, config))
        if read_only(store) is not None:
            # Nothing can be written there: no readable tree to keep, nothing to migrate; the
            # store still answers every read, and a write says why it cannot be made.
            return cls(found, store, config, listeners=())
        ws = cls(found, store, config, listeners=listeners)
        _checkpoints.migrate_artifact_names(ws)
        return ws

    @property
    def read_only(self) -> str | None:
        """Why this workspace can only be read (a read-only mount, no permission), or None."""
        return read_only(self.store)

    def close(self) -> None:
        try:
            for listener in self.listeners:
                listener.close()  # brings the readable tree current first
        finally:
            _OPEN.discard(self)
            self.store.close()

    def flush(self) -> None:
        """Bring the readable tree current now. A write is durable when it returns and its files
        follow within ~0.1 s (at once at the end of a batch, on close and at exit); call this
        when the next line reads them."""
        for listener in self.listeners:
            listener.flush()

    def announce(self, change: Change) -> None:
        """Tell the listeners of a commit (after it, never inside its transaction)."""
        for listener in self.listeners:
            listener.committed(change)

    def before_write(self, task_id: str, kind: str) -> None:
        """Before a checkpoint of ``kind`` replaces its artifact: a hand edit is taken in first."""
        for listener in self.listeners:
            listener.before_write(task_id, kind)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paths -----------------------------------------------------------------------------------
    def artifact_path(self, task_id: str, kind: str) -> str:
        return _checkpoints.artifact_path(self, task_id, kind)

    def path(self, rel: str) -> Path:
        return names.inside(self.root, rel)

    # -- journal ---------------------------------------------------------------------------------
    def record_event(self, task_id: str | None, type_: str, **data: Any) -> int:
        """Append an event of an outside kind (hooks, workers) to the journal, durably."""
        return _journal.record(self, task_id, type_, **data)

    def events(
        self,
        task_id: str | None = None,
        *,
        limit: int = 50,
        after: int = 0,
        types: Sequence[str] = (),
    ) -> list[Event]:
        return _journal.events(self, task_id, limit=limit, after=after, types=types)

    # -- tasks and phases ------------------------------------------------------------------------
    def create_task(
        self,
        task_id: str,
        title: str = "",
        phases: Iterable[str] = (),
        gates: Iterable[str] = (),
        *,
        exist_ok: bool = False,
    ) -> Task:
        return _tasks.create_task(self, task_id, title, phases, gates, exist_ok=exist_ok)

    def add_phases(self, task_id: str, phases: Iterable[str]) -> Task:
        return _tasks.add_phases(self, task_id, phases)

    def task(self, task_id: str) -> Task:
        return _tasks.get_task(self, task_id)

    def has_task(self, task_id: str) -> bool:
        return _tasks.has_task(self, task_id)

    def tasks(self, *, limit: int | None = None) -> list[Task]:
        return _tasks.list_tasks(self, limit=limit)

    def active_tasks(self) -> list[Task]:
        return _tasks.active_tasks(self)

    def resolve_task(self, task_id: str | None) -> str:
        """The named task, or the one active task when none is named."""
        return _tasks.resolve_task(self, task_id)

    def start_phase(
        self,
        task_id: str,
        phase: str,
        *,
        reopen: bool = False,
        override: str | None = None,
        create: bool = False,
    ) -> Task:
        return _tasks.start_phase(
            self, task_id, phase, reopen=reopen, override=override, create=create
        )

    def finish_phase(self, task_id: str, phase: str) -> Task:
        return _tasks.end_phase(self, task_id, phase, "done", None)

    def fail_phase(self, task_id: str, phase: str, error: str) -> Task:
        return _tasks.end_phase(self, task_id, phase, "failed", error)

    def block_phase(self, task_id: str, phase: str, reason: str) -> Task:
        return _tasks.end_phase(self, task_id, phase, "blocked", reason)

    # -- durable phase runs (task.run(), `cairn run`: cairn.flow.durable) ------------------------
    def sync_phases(self, task_id: str, phases: Sequence[tuple[str, bool]]) -> bool:
        """See :func:`cairn.domain.runs.sync_phases`."""
        return _runs.sync_phases(self, task_id, phases)

    def begin_phase_run(
        self, task_id: str, phase: str, *, pid: int, host: str
    ) -> rules.PhaseRun | None:
        """See :func:`cairn.domain.runs.begin_phase_run`."""
        return _runs.begin_phase_run(self, task_id, phase, pid=pid, host=host)

    def finish_phase_run(
        self,
        run: rules.PhaseRun,
        result_type: str,
        *,
        text: str | None = None,
        checkpoint: Checkpoint | None = None,
        result_json: str | None = None,
    ) -> str | None:
        """See :func:`cairn.domain.runs.finish_phase_run`."""
        return _runs.finish_phase_run(
            self, run, result_type, text=text, checkpoint=checkpoint, result_json=result_json
        )

    def fail_phase_run(self, run: rules.PhaseRun, error: str) -> None:
        _runs.fail_phase_run(self, run, error)

    def reset_phases(
        self, task_id: str, phase: str, *, keep: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """See :func:`cairn.domain.runs.reset_phases`."""
        return _runs.reset_phases(self, task_id, phase, keep=keep)

    def phase_checkpointed(self, task_id: str, phase: str) -> bool:
        return _runs.phase_checkpointed(self, task_id, phase)

    def phase_runs(self, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
        return _runs.phase_runs(self, task_id, phase)

    # -- checkpoints -----------------------------------------------------------------------------
    def write_checkpoint(
        self,
        task_id: str,
        kind: str,
        content: str | bytes,
        *,
        files: Iterable[str] = (),
        phase: str | None = None,
        source: str = "write",
    ) -> Checkpoint:
        return _checkpoints.write_checkpoint(
            self, task_id, kind, content, files=files, phase=phase, source=source
        )

    def checkpoint(self, task_id: str, kind: str, version: int | None = None) -> Checkpoint:
        return _checkpoints.get_checkpoint(self, task_id, kind, version)

    def has_checkpoint(self, task_id: str, kind: str) -> bool:
        return _checkpoints.has_checkpoint(self, task_id, kind)

    def checkpoints(self, task_id: str) -> list[tuple[Checkpoint, int]]:
        """The newest version of each kind (without content) and the number of versions."""
        return _checkpoints.newest_each_kind(self, task_id)

    def history(self, task_id: str, kind: str) -> list[Checkpoint]:
        return _checkpoints.history(self, task_id, kind)

    def newest_checkpoint(
        self, task_id: str, *, exclude: Sequence[str] = ("progress",), with_content: bool = True
    ) -> Checkpoint | None:
        return _checkpoints.newest_checkpoint(
            self, task_id, exclude=exclude, with_content=with_content
        )

    def artifact_content(self, task_id: str, kind: str) -> tuple[str, str] | None:
        """What the artifact of (task, kind) should hold, and its hash (for the projector)."""
        return _checkpoints.artifact_content(self, task_id, kind)

    def is_known_content(self, task_id: str, kind: str, digest: str) -> bool:
        """Whether an artifact holding ``digest`` is stale cairn output rather than a hand edit."""
        return _checkpoints.is_known_content(self, task_id, kind, digest)

    # -- progress steps and next action ----------------------------------------------------------
    def progress(
        self, task_id: str, text: str, state: str = "done", phase: str | None = None
    ) -> Step:
        return _steps.progress(self, task_id, text, state, phase)

    def set_next(self, task_id: str, text: str) -> Task:
        return _steps.set_next(self, task_id, text)

    def steps(
        self, task_id: str, *, limit: int | None = None, phase: str | None = None
    ) -> list[Step]:
        """Progress steps of a task (or of one of its phases), oldest first; ``limit``: the last N."""
        return _steps.steps(self, task_id, limit=limit, phase=phase)

    # -- recoveries ------------------------------------------------------------------------------
    def recoveries(self, *, limit: int = 20) -> list[Recovery]:
        with self.store.read() as tx:
            rows = tx.recoveries.recent(limit)
        return [
            Recovery(
                r.id,
                r.ts,
                r.trigger,
                r.task_id,
                r.phase,
                r.checkpoint,
                r.reloaded,
                r.safe_point,
                r.note,
            )
            for r in rows
        ]

    def refresh(self) -> None:
        """Re-project the readable tree: status file, artifacts, recovery log (a full pass)."""
        for listener in self.listeners:
            listener.refresh()

    @contextlib.contextmanager
    def batch(self) -> Iterator[Workspace]:
        """Many writes, one projection: inside the block every write is durable when its call
        returns, and the readable tree (artifacts, ``CURRENT_WORK_STATUS.md``) is brought up to
        date once, when the block ends (also when it ends by an exception). Outside a batch the
        tree follows each write within ~0.1 s."""
        for listener in self.listeners:
            listener.begin_batch()
        try:
            yield self
        finally:
            for listener in self.listeners:
                listener.end_batch()

    # -- TEMPORARY: the private helpers other modules (flow, agent, hooks, reviews, projection)
    # called before the domain split. They delegate to the domain modules; each caller moves to
    # those (tasks.canonical, journal.append, checkpoints.insert_checkpoint ...) and then these go.
    @staticmethod
    def _event(tx: Tx, task_id: str | None, type_: str, ts: str, **data: Any) -> int:
        return _journal.append(tx, task_id, type_, ts, **data)

    def _task_row(self, tx: Tx, task_id: str) -> Row:
        r = _base.canonical(tx, task_id)
        return {
            "id": r.id,
            "key": names.task_key(r.id),
            "title": r.title,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "next_action": r.next_action,
            "seq": r.seq,
        }

    def _load_task(self, tx: Tx, row: Row) -> Task:
        return _tasks.load(tx, _base.canonical(tx, row["id"]))

    def _touch(self, tx: Tx, task_id: str, ts: str) -> None:
        tx.tasks.touch(task_id, ts)

    @staticmethod
    def _steps(
        tx: Tx, task_id: str, limit: int | None = None, phase: str | None = None
    ) -> list[Step]:
        return _steps.steps_in(tx, task_id, limit, phase)

    def _coerce_content(self, content: str | bytes) -> tuple[str, bytes]:
        return _checkpoints.coerce_content(self.config, content)

    def _insert_checkpoint(
        self,
        tx: Tx,
        task_id: str,
        kind: str,
        text: str,
        data: bytes,
        files: tuple[str, ...],
        phase: str | None,
        source: str,
        ts: str,
    ) -> Checkpoint:
        task_id = _base.canonical(tx, task_id).id
        return _checkpoints.insert_checkpoint(
            self, tx, task_id, kind, text, data, files, phase, source, ts
        )


def open_workspace(path: str | Path | None = None, *, create: bool = False) -> Workspace:
    """Open the workspace at or above ``path``; with ``create=True`` initialise it if missing."""
    if create:
        root = Path(path or ".").resolve()
        try:
            return Workspace.open(root)
        except NotAWorkspace:
            return Workspace.init(root)
    return Workspace.open(path)


__all__ = [
    "CAIRN_DIR",
    "DB_NAME",
    "PROGRESS_FILE_STEPS",
    "STEP_ALIASES",
    "CairnError",
    "Workspace",
    "content_hash",
    "find_root",
    "is_workspace",
    "now",
    "open_workspace",
]
