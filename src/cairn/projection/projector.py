"""The readable tree, following the store's commits: artifacts, the status file, the recovery log.

The projector is the workspace's default listener (``domain/notices.py``). A commit hands it a
notice; the notice is queued, and the tree is brought current by one *flush*: shortly after (a
background timer coalesces the writes of ~50 ms, on its own store connection), at the end of a
batch, on ``ws.flush()`` or ``close()``, and at exit. A command (CLI, hook) flushes once before it
returns. Every flush runs under the projection lock and renders the status file once.

A process killed between a commit and its flush leaves the tree behind; the next command's
:meth:`Projector.reconcile` finds those commits in the journal (``watch.py``) and repairs them.
"""

from __future__ import annotations

import os
import time
from _thread import allocate_lock
from pathlib import Path
from stat import S_ISLNK

from cairn.core.fsutil import atomic_write, file_lock, remove_stale_temps
from cairn.domain.checkpoints import artifact_path
from cairn.projection import artifacts, watch
from cairn.projection.lifecycle import LIVE as _LIVE
from cairn.projection.recovery_log import bring_log_current, log_is_current, log_rel, log_text
from cairn.projection.status import render_status_md, status_data, status_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from typing import Any

    from cairn.core.model import Checkpoint
    from cairn.domain.notices import Change
    from cairn.domain.workspace import Workspace
    from cairn.store.contract.projections import ProjectionStat

# How long the background flush waits for more writes before it runs; with the flush itself a
# library write's files are current within ~0.1 s.
FLUSH_DELAY_S = 0.05
# During a burst of writes the flushes are spaced by their own measured cost, so that they take at
# most this share of the writer's time (a flush renders the status file: milliseconds, where a
# durable write is about one): the next flush is at least cost / FLUSH_SHARE after the end of the
# last, and never more than FLUSH_GAP_MAX_S after it, which bounds how far the tree lags behind.
FLUSH_SHARE = 0.025
FLUSH_GAP_MAX_S = 0.4
# The background thread ends after this long without a write (and starts again with the next).
IDLE_S = 2.0


def _flushes_aside(store: Any) -> bool:
    """Whether a background thread can flush on a connection of its own: a file store opens a
    second one; a pooled store (PostgreSQL, ``threads_share``) gives each thread its own."""
    return getattr(store, "path", None) is not None or bool(getattr(store, "threads_share", False))


Pending = dict[str, tuple[str, str, "Checkpoint | None"]]  # path -> (task, kind, handed version)
ReviewFiles = dict[tuple[str, str], None]  # (review, path), in the order recorded


class Projector:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.lock_path = ws.cairn_dir / "projection.lock"
        self.files = artifacts.Artifacts(ws.root)
        # True: a timer flushes shortly after a write (the library). A command sets it False and
        # flushes before it returns.
        self.background = True
        self._mu = allocate_lock()  # guards the queue below
        # Made at the background thread's first start: a command never starts it, and importing
        # threading cost every fresh process ~1 ms.
        self._wake: threading.Condition | None = None
        self._flushing = allocate_lock()  # one flush at a time in this process
        self._pending: Pending = {}
        self._reviews: ReviewFiles = {}
        self._dirty = False
        self._log_due = False  # a recovery was logged: the recovery log follows in the flush
        self.last_status: dict[str, Any] | None = None  # the data of the status file last written
        self._batch_depth = 0
        self._thread: threading.Thread | None = None
        self._due: float | None = None  # when the background thread flushes next
        self._next_ok = 0.0  # no background flush before this (monotonic): see FLUSH_SHARE
        self._bg_ws: Workspace | None = None
        self._closed = False
        _LIVE.add(self)

    def target(self, rel: str) -> Path:
        return self.files.target(rel)

    def take_warnings(self) -> list[str]:
        """What was set aside unread since the last call, one line each (see artifacts.py)."""
        return self.files.take_warnings()

    # -- the listener ----------------------------------------------------------------------------
    def committed(self, change: Change) -> None:
        review = (change.review, change.path) if change.review and change.path else None
        # A review file is written before a library call returns (the caller opens it next, and
        # a refused folder is its error); it goes to this flush alone, not to the queue, which
        # the background thread could take and whose errors it keeps to itself.
        now = review is not None and self.background and not self._batch_depth
        with self._mu:
            self._dirty = True
            if change.what == "checkpoint" and change.task_id and change.kind:
                cp = change.checkpoint
                rel = cp.path if cp else self.ws.artifact_path(change.task_id, change.kind)
                self._pending[rel] = (change.task_id, change.kind, cp)
            if change.what == "recovery":
                self._log_due = True
            if review is not None and not now:
                self._reviews[review] = None
            if not now:
                self._schedule()
        if review is not None and now:
            self._flush(self.ws, reviews={review: None})
        elif change.settle and self.background and not self._batch_depth:
            # The caller reads the tree next (a library caller); a command queues, and flushes
            # once before it returns.
            self.flush()

    def before_write(self, task_id: str, kind: str) -> None:
        """Take in a hand edit of the artifact a write is about to replace, as its own version
        first. One stat when the file is as this process left it."""
        rel = artifact_path(self.ws, task_id, kind)  # not through the workspace's lazy module
        self.files.check_folder(rel)  # a folder leading outside is refused before the commit
        try:
            st = os.lstat(self.files.prefix + rel)
        except FileNotFoundError:
            return  # no file there (yet: a batch projects at its end): nothing to take in
        known = None if S_ISLNK(st.st_mode) else self.files.seen.get(rel)  # links: under the lock
        if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
            return
        with self._flushing, file_lock(self.lock_path):
            # By path_key: the caller's task id may differ in case from the stored one.
            row = artifacts.projection_row(self.ws, rel)
            if row is None:
                # Nothing projected there yet: a file found at that path is someone's work.
                if self.files.adopt(self.ws, rel, task_id, kind):
                    with self._mu:
                        self._dirty = True
                return
            found = self.files.on_disk(row.path, row, self.ws)
            if found is None or found[1] is None or found[0] == row.hash:
                return
            if self.files.is_hand_edit(self.ws, row, found[0]) and self.files.ingest(
                self.ws, row, found[1]
            ):
                with self._mu:
                    self._dirty = True

    def begin_batch(self) -> None:
        self._batch_depth += 1

    def end_batch(self) -> None:
        self._batch_depth -= 1
        if not self._batch_depth:
            self.flush()

    def flush(self) -> None:
        self._flush(self.ws)

    def refresh(self) -> None:
        self.refresh_all()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._flushing:
                with self._mu:
                    self._closed = True
                    if self._wake is not None:
                        self._wake.notify()
                if self._bg_ws is not None and self._bg_ws.store is not self.ws.store:
                    self._bg_ws.store.close()
                self._bg_ws = None
            _LIVE.discard(self)

    # -- flushing --------------------------------------------------------------------------------
    def _schedule(self) -> None:
        """Have the background thread flush soon (called holding ``_mu``): a write only sets a
        time and wakes the thread, which costs it far less than starting one."""
        if self._batch_depth or not self.background or self._closed or self._due is not None:
            return
        if not _flushes_aside(self.ws.store):
            return  # no second connection to flush from: flush(), close() and exit do it
        self._due = max(time.monotonic() + FLUSH_DELAY_S, self._next_ok)
        if self._thread is None:
            import threading

            if self._wake is None:
                self._wake = threading.Condition(self._mu)
            self._thread = threading.Thread(
                target=self._background, name="cairn-projection", daemon=True
            )
            self._thread.start()
        elif self._wake is not None:
            self._wake.notify()

    def _background(self) -> None:
        wake = self._wake
        assert wake is not None  # made before this thread started
        while True:
            with self._mu:
                while True:
                    if self._closed:
                        self._thread = None
                        return
                    if self._due is None:
                        if not wake.wait(IDLE_S) and self._due is None:
                            self._thread = None  # idle: end, releasing the workspace
                            return
                        continue
                    wait = self._due - time.monotonic()
                    if wait <= 0:
                        break
                    wake.wait(wait)
                self._due = None
            self._flush_in_background()

    def _flush_in_background(self) -> None:
        start = time.monotonic()
        try:
            view = self._background_view()
            if view is not None:
                self._flush(view)
        except Exception:
            # Best effort off the caller's path: the queue is kept, and the next flush in the
            # caller's thread (batch end, close, exit) retries it where an error can surface.
            pass
        end = time.monotonic()
        # Wall time, not this thread's CPU: it counts the flush's statements on the server and,
        # on a busy machine, the waits for a core, which the writer then has less of.
        gap = min(FLUSH_GAP_MAX_S, (end - start) / FLUSH_SHARE)
        with self._mu:
            self._next_ok = end + gap
            if self._due is not None:  # a write during the flush asked for one: not before
                self._due = max(self._due, self._next_ok)

    def _background_view(self) -> Workspace | None:
        """The workspace on a connection of the projector's own, for flushing from a thread
        other than the caller's (whose connection may be inside a transaction)."""
        with self._flushing:
            if self._closed or self._batch_depth:
                return None
            path = getattr(self.ws.store, "path", None)
            if self._bg_ws is None and path is not None:
                import copy  # here: only a library write's background flush needs it

                from cairn.store import open_store

                view = copy.copy(self.ws)
                view.store = open_store(path)
                self._bg_ws = view
            elif self._bg_ws is None and _flushes_aside(self.ws.store):
                self._bg_ws = self.ws  # a pooled store: this thread gets a connection of its own
            return self._bg_ws

    def _flush(
        self, ws: Workspace, *, status: bool = False, reviews: ReviewFiles | None = None
    ) -> None:
        with self._flushing:
            with self._mu:
                pending, self._pending = self._pending, {}
                dirty, self._dirty = self._dirty, False
                files, self._reviews = {**self._reviews, **(reviews or {})}, {}
                log, self._log_due = self._log_due, False
            if not (pending or dirty or status or files or log):
                return
            try:
                with file_lock(self.lock_path):
                    self._bring_current(ws, pending, files, log)
            except BaseException:
                # The review files are not queued again: one refused (a symlinked folder) would
                # fail every later flush; the repair pass (`cairn review list`, `cairn refresh`)
                # writes what is missing once the cause is mended.
                with self._mu:
                    for rel, item in pending.items():
                        self._pending.setdefault(rel, item)
                    self._dirty = True
                    self._log_due = self._log_due or log
                raise

    def _bring_current(
        self, ws: Workspace, pending: Pending, reviews: ReviewFiles, log: bool = False
    ) -> None:
        """Project the queued versions, and any other commit made since the last look (another
        process's, not yet projected), then render the status once. Holds the lock."""
        look = watch.load(ws)
        before = watch.stamps(ws)
        # One read for what the flush reads (each transaction costs a server round trip or two):
        # the commits since the last look, the projection rows, the status.
        with ws.store.read() as tx:
            top, others = watch.commits_in(tx, ws, look.mark, limit=None)
            for rel, task_id, kind in others or ():
                pending.setdefault(rel, (task_id, kind, None))
            rows = [(tx.projections.owner(rel), item[2]) for rel, item in pending.items()]
            data: dict[str, Any] | None = status_in(ws, tx)
        written: list[Any] = []
        warned = len(self.files.warnings)
        for row, handed in rows:
            if row is not None and self.files.project(ws, row, handed, written):
                data = None  # a hand edit became a version: the status is read again
        artifacts.record(ws, written)
        if reviews:
            from cairn.projection import documents

            for review_id, path in reviews:
                documents.write_review(ws, self.files.target, review_id, path)
        if reviews or len(self.files.warnings) != warned:
            data = None  # what they journaled is read again, as before
        self._render_status_locked(ws, data)
        log_stamp = look.log
        if log:  # between the stamps below: the log's folder keeps the stamp cairn gave it
            log_stamp = bring_log_current(ws, self.files.target(log_rel(ws)), look.log)
        after = watch.stamps(ws)
        # Only the changes made here move a folder's stamp: one that someone else changed since
        # the last look keeps its old stamp, so that the next command looks at every file in it.
        dirs = dict(look.dirs)
        for name, old in look.dirs.items():
            if old == before.get(name) and name in after:
                dirs[name] = after[name]
        mark = top if others is not None else look.mark
        if (mark, dirs, log_stamp) != (look.mark, look.dirs, look.log):
            watch.save(ws, watch.Look(mark, dirs, log_stamp))

    # -- looking at the tree ---------------------------------------------------------------------
    def reconcile(self, only: tuple[str, str] | None = None) -> list[str]:
        """Before a command: bring the tree in line with the store and take in hand edits,
        looking only at what changed since the last look (``watch.py``). Returns the ingested
        paths."""
        if only is not None:
            # The legacy "about to touch this artifact" call (reviews read it from disk next):
            # what this process queued for the tree is flushed first, so the file is current.
            self.flush()
            for other in list(_LIVE):
                if other is not self and other.ws.root == self.ws.root and other.background:
                    view = other._background_view()  # its owner may be mid-transaction
                    if view is not None:
                        other._flush(view)
            self.before_write(*only)
            return []
        with self._flushing, file_lock(self.lock_path):
            return self._look(full=False)

    def _look(self, *, full: bool) -> list[str]:
        ws = self.ws
        look = watch.load(ws)
        now = watch.stamps(ws)
        remove_stale_temps(ws.cairn_dir)
        changed = [k for k in watch.folders(ws) if look.dirs.get(k) != now.get(k)]
        for name in changed:
            # A process killed mid-write leaves its temporary file; the next command clears it.
            remove_stale_temps(watch.folders(ws)[name])
        top, stats, full = watch.to_check(ws, look.mark, full=full or "artifacts" in changed)
        ingested, written = self._check(stats)
        artifacts.record(ws, written)
        status_path = self.files.prefix + ws.config.status_file
        # Anything journaled since the last look (a process killed before its flush) may show in
        # the status; a status file deleted by hand is back at once.
        if ingested or full or top != look.mark or not os.path.exists(status_path):
            self._render_status_locked(ws)
        log = log_rel(ws)
        if not log_is_current(ws, self.files.prefix + log):
            atomic_write(self.files.target(log), log_text(ws).encode("utf-8"))
        stamps = watch.stamps(ws)
        if (top, stamps) != (look.mark, look.dirs):
            watch.save(ws, watch.Look(top, stamps, look.log))
        return ingested

    def _check(self, stats: list[ProjectionStat]) -> tuple[list[str], list[Any]]:
        """Each file against its row: unchanged (its stat as recorded), stale (replaced),
        missing (written again), or edited by hand (ingested). Only the suspects are read."""
        prefix, stat = self.files.prefix, os.stat
        suspects: list[str] = []
        for st in stats:
            try:
                fs = stat(prefix + st.path)
            except FileNotFoundError:
                suspects.append(st.path)
                continue
            if (fs.st_mtime_ns, fs.st_size) != (st.mtime_ns, st.size):
                suspects.append(st.path)
        ingested: list[str] = []
        written: list[Any] = []
        for row in watch.rows(self.ws, suspects):
            rel = row.path
            found = self.files.on_disk(rel, row, self.ws)
            if found is None:
                self.files.project(self.ws, row, None, written)
                continue
            digest, data = found
            if digest == row.hash:
                known = self.files.seen[rel]  # read to be sure: a stat will do next time
                written.append((known[0], known[1], rel, digest))
            elif data is None or not self.files.is_hand_edit(self.ws, row, digest):
                # A stale projection: the process that wrote a newer version died before
                # projecting it. Not a hand edit, so it is replaced, not ingested.
                self.files.project(self.ws, row, None, written)
            elif self.files.ingest(self.ws, row, data):
                ingested.append(rel)
        return ingested, written

    def refresh_all(self) -> None:
        """The full pass (``cairn refresh``): every artifact looked at and rewritten if it is not
        the store's newest, hand edits taken in, review files repaired, status file and recovery
        log rendered."""
        from cairn.projection import documents

        with self._flushing:
            with self._mu:
                self._pending, self._reviews, self._dirty = {}, {}, False
            with file_lock(self.lock_path):
                self._look(full=True)
                written: list[Any] = []
                with self.ws.store.read() as tx:
                    every = tx.projections.all()
                for row in every:
                    self.files.project(self.ws, row, None, written)
                artifacts.record(self.ws, written)
                documents.repair(self.ws, self.files.target)
                self._render_status_locked(self.ws)
                self._render_recovery_log_locked()

    def _project_artifact(self, task_id: str, kind: str) -> None:
        """Project one artifact from the store now; the caller holds the projection lock."""
        row = artifacts.projection_row(self.ws, self.ws.artifact_path(task_id, kind))
        if row is not None:
            written: list[Any] = []
            self.files.project(self.ws, row, None, written)
            artifacts.record(self.ws, written)

    # -- status and recovery log -----------------------------------------------------------------
    def render_status(self) -> None:
        """Render the status file now (with whatever else is queued), in the caller's thread."""
        self._flush(self.ws, status=True)

    def _render_status_locked(self, ws: Workspace, data: dict[str, Any] | None = None) -> None:
        data = status_data(ws) if data is None else data
        md = render_status_md(data).encode("utf-8")
        atomic_write(self.files.target(ws.config.status_file), md)
        self.last_status = data  # what `cairn status` prints: the file it just wrote

    def render_recovery_log(self) -> None:
        with file_lock(self.lock_path):
            self._render_recovery_log_locked()

    def recovery_log_text(self) -> str:
        """The recovery log as the store says it should read."""
        return log_text(self.ws)

    def _render_recovery_log_locked(self) -> None:
        text = log_text(self.ws).encode("utf-8")
        atomic_write(self.files.target(log_rel(self.ws)), text)
