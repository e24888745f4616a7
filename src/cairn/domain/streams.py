"""Resumable, append-only JSONL streams with one key per record, and a tolerant JSONL reader.

A :class:`Stream` is the seed's "stream findings to a file" made safe to resume::

    with open_stream(ws, "findings.jsonl", key=lambda r: r["id"]) as out:
        for item in items:
            if item["id"] in out:          # written before a crash: skip it
                continue
            out.write(analyze(item))

Guarantees (tested by SIGKILLing real writers):

- Each record is one ``os.write`` of a whole ``"...\\n"`` line, made before :meth:`Stream.write`
  returns. A killed process therefore never loses an acknowledged record: the bytes are in the
  kernel, and only a power loss or OS crash can drop what was not yet synced.
- On open, a torn last line (a write cut short by the kill) is repaired: if the bytes after the last
  newline parse as a whole JSON object they are completed with ``"\\n"``, otherwise they are
  truncated away. The repair is recorded in the journal. The keys present are then exactly the
  records whose write completed, so re-running the loop writes each missing record once.
- One writer at a time: an exclusive ``flock`` on a sidecar ``.<name>.lock`` file. A second writer
  (another process, or a second open in the same process) gets a :class:`~cairn.core.errors.CairnError`
  at once and never interleaves lines.

Sync policy (the bound on what a power loss can take): :data:`DEFAULT_SYNC` calls ``fdatasync``
after every 100 records or when 200 ms have passed since the last sync, whichever comes first (the
time is checked when a record is written; there is no timer thread), and always on close. Use
``sync="every"`` for a sync per record, ``"n:500"``, ``"ms:1000"``, ``"n:100,ms:200"``, or
``"none"`` (sync on close only).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
import weakref
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core import names
from cairn.core.errors import CairnError, UsageError, ValidationError
from cairn.domain.jsonl import (
    DEFAULT_SYNC,
    JsonlError,
    JsonlRead,
    SyncPolicy,
    as_policy,
    excerpt,
    iter_lines,
    parse_line,
    read_jsonl,
    refuse_foreign,
)

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)
_CHUNK = 1 << 20


def _freeze(value: Any) -> Any:
    """JSON turns tuples into lists; freeze lists back so keys compare equal after a reload."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    return value


# -- the stream ----------------------------------------------------------------------------------
_OPEN_STREAMS: weakref.WeakSet[Stream] = weakref.WeakSet()


def _forget_in_child() -> None:
    # A forked child (a worker) must not keep the parent's stream: close its copies of the file
    # descriptors so that the lock goes away with the parent, and make writes there an error.
    for stream in list(_OPEN_STREAMS):
        stream._abandon()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class Stream:
    """An open, locked, append-only JSONL file of keyed records. Create with :func:`open_stream`."""

    def __init__(
        self,
        ws: Workspace,
        path: Path,
        rel: str,
        key: Callable[[dict[str, Any]], Hashable],
        *,
        task_id: str | None,
        policy: SyncPolicy,
        total: int | None,
        progress: bool | None,
    ) -> None:
        self.ws = ws
        self.path = path
        self.rel = rel
        self.task_id = task_id
        self.policy = policy
        self.total = total
        self._key = key
        self._keys: set[Any] = set()
        self._fd = -1
        self._lock_fd = -1
        self._closed = True
        self._owner_pid = os.getpid()
        self.written = 0  # records written by this open
        self.repaired: dict[str, Any] | None = None
        self.bad_lines: list[JsonlError] = []
        self.duplicates = 0
        self._unsynced = 0
        self._last_sync = time.monotonic()
        self._size = 0
        self._progress: Any = None
        self._progress_task: Any = None
        self._progress_at = 0.0
        self._lock()
        try:
            self._open_and_load()
        except BaseException:
            self._release()
            raise
        self._closed = False
        _OPEN_STREAMS.add(self)
        self._record(
            "stream.opened",
            records=len(self._keys),
            sync=policy.describe(),
            repaired=bool(self.repaired),
            bad_lines=len(self.bad_lines),
        )
        if self.bad_lines:
            self._record(
                "stream.bad_lines",
                count=len(self.bad_lines),
                first=[str(e) for e in self.bad_lines[:5]],
            )
        self._start_progress(progress)

    # -- opening ---------------------------------------------------------------------------------
    def _lock(self) -> None:
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        self._lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.pread(self._lock_fd, 64, 0).decode().strip()
            os.close(self._lock_fd)
            self._lock_fd = -1
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                who = f" (process {holder})" if holder else ""
                raise CairnError(
                    f"stream {self.rel} is already open for writing by another writer{who}; "
                    "only one writer at a time: close the other one, or wait for it to finish"
                ) from None
            raise
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, f"{os.getpid()}\n".encode(), 0)

    def _open_and_load(self) -> None:
        existed = self.path.exists()
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        if not existed:
            from cairn.core.fsutil import fsync_dir

            fsync_dir(self.path.parent)
        self._repair_tail()
        with open(self._fd, "rb", closefd=False) as f:
            f.seek(0)
            for number, raw, _complete in iter_lines(f):
                if not raw.strip():
                    continue
                value, err = parse_line(raw, number)
                if err is not None:
                    self.bad_lines.append(err)
                    continue
                if not isinstance(value, dict):
                    self.bad_lines.append(
                        JsonlError(number, "not a JSON object", excerpt(raw.decode()))
                    )
                    continue
                k = self._key_of(value, where=f"line {number} of {self.rel}")
                if k in self._keys:
                    self.duplicates += 1
                self._keys.add(k)
        self._size = os.fstat(self._fd).st_size

    def _repair_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        # Find the last newline, reading backwards in chunks.
        end = size
        last_nl = -1
        while end > 0:
            start = max(0, end - _CHUNK)
            chunk = os.pread(self._fd, end - start, start)
            i = chunk.rfind(b"\n")
            if i >= 0:
                last_nl = start + i
                break
            end = start
        keep = last_nl + 1
        if keep == size:
            return
        tail = os.pread(self._fd, size - keep, keep)
        whole = False
        with contextlib.suppress(ValueError):
            # A proper prefix of a JSON object never parses as an object: the closing brace is
            # its last byte. So a tail that parses was written in full, all but its newline.
            whole = isinstance(json.loads(tail.decode("utf-8")), dict)
        if whole:
            os.write(self._fd, b"\n")
            action = "completed"
        else:
            os.ftruncate(self._fd, keep)
            action = "truncated"
        os.fsync(self._fd)
        self.repaired = {
            "action": action,
            "bytes": len(tail),
            "offset": keep,
            "excerpt": excerpt(tail[:200].decode("utf-8", "replace"), 200),
        }
        self._record("stream.repaired", **self.repaired)

    def _record(self, type_: str, **data: Any) -> None:
        self.ws.record_event(self.task_id, type_, path=self.rel, **data)

    def _start_progress(self, progress: bool | None) -> None:
        wanted = self.total is not None if progress is None else progress
        if not wanted or not sys.stdout.isatty():
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        self._progress_task = self._progress.add_task(
            self.rel, total=self.total, completed=len(self._keys)
        )
        self._progress.start()

    # -- keys ------------------------------------------------------------------------------------
    def _key_of(self, record: dict[str, Any], *, where: str) -> Any:
        try:
            k = self._key(record)
        except Exception as exc:
            raise ValidationError(
                f"the key function failed on {where} {excerpt(record)} "
                f"({type(exc).__name__}: {exc}); make it return a value for every record"
            ) from exc
        if k is None:
            raise ValidationError(
                f"the key function returned None for {where} {excerpt(record)}; every record "
                "needs a key (a string, number or tuple) that identifies it"
            )
        k = _freeze(k)
        try:
            hash(k)
        except TypeError:
            raise ValidationError(
                f"the key {excerpt(k)} of {where} is not hashable; return a string, number or tuple"
            ) from None
        return k

    def __contains__(self, key: object) -> bool:
        return _freeze(key) in self._keys

    def keys(self) -> set[Any]:
        return set(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    # -- writing ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            if os.getpid() != self._owner_pid:
                raise CairnError(
                    f"stream {self.rel} belongs to the process that opened it; open it again "
                    "in this process (a worker) if it must write"
                )
            raise UsageError(f"stream {self.rel} is closed; open it again to write")

    def write(self, record: dict[str, Any]) -> bool:
        """Append ``record`` unless its key is present. True if written, False if already there.

        When this returns True the line is in the file (in the kernel); a kill after that point
        cannot lose it. Nothing is written if the record cannot be serialized.
        """
        self._check_open()
        if not isinstance(record, dict):
            raise ValidationError(
                f"stream records are JSON objects (dicts), not {type(record).__name__}: "
                f"{excerpt(record)}"
            )
        try:
            k = self._key(record)
        except Exception:
            k = None  # _key_of below raises the explanation
        if type(k) is not str and type(k) is not int:  # fast path for the common keys
            k = self._key_of(record, where="record")
        if k in self._keys:
            return False
        try:
            data = (_ENCODER.encode(record) + "\n").encode("utf-8")
        except (TypeError, ValueError, UnicodeEncodeError) as exc:
            raise ValidationError(
                f"record with key {excerpt(k)} cannot be written as JSON ({exc}); convert it "
                "to plain dicts, lists, strings and numbers first. Nothing was written"
            ) from None
        self._append(data)
        self._keys.add(k)
        self.written += 1
        self._unsynced += 1
        pol = self.policy
        if pol.every is not None and self._unsynced >= pol.every:
            self.sync()
        elif pol.interval_ms is not None:
            now = time.monotonic()
            if (now - self._last_sync) * 1000 >= pol.interval_ms:
                self.sync()
        if self._progress is not None:
            now = time.monotonic()
            if now - self._progress_at > 0.1:
                self._progress_at = now
                self._progress.update(self._progress_task, completed=len(self._keys))
        return True

    def _append(self, data: bytes) -> None:
        n = 0
        try:
            n = os.write(self._fd, data)
            while n < len(data):
                n += os.write(self._fd, data[n:])
        except BaseException as exc:
            # A failed or partial write (disk full, an interrupt) is cut back so no half line stays.
            if n:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
            if isinstance(exc, OSError):
                raise CairnError(
                    f"could not append to stream {self.rel}: {exc.strerror or exc}; free space or "
                    "fix permissions and run again (records written so far are kept)"
                ) from exc
            raise
        self._size += len(data)

    def flush(self) -> None:
        """Nothing is buffered in the process (each record is written at once); kept for parity."""
        self._check_open()

    def sync(self) -> None:
        """Make every record written so far durable against power loss (``fdatasync``)."""
        self._check_open()
        if self._unsynced:
            if hasattr(os, "fdatasync"):
                os.fdatasync(self._fd)
            else:  # pragma: no cover - macOS
                os.fsync(self._fd)
            self._unsynced = 0
        self._last_sync = time.monotonic()

    # -- closing ---------------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        try:
            self.sync()
        finally:
            self._closed = True
            _OPEN_STREAMS.discard(self)
            if self._progress is not None:
                self._progress.update(self._progress_task, completed=len(self._keys))
                self._progress.stop()
                self._progress = None
            self._release()
        self._record("stream.closed", records=len(self._keys), written=self.written)

    def _release(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._lock_fd = -1

    def _abandon(self) -> None:
        """In a forked child: drop this process's copies of the descriptors, keep the parent's."""
        self._closed = True
        self._progress = None
        self._release()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Stream {self.rel} {len(self._keys)} records {state}>"


def open_stream(
    ws: Workspace,
    path: str,
    key: Callable[[dict[str, Any]], Hashable],
    *,
    task_id: str | None = None,
    sync: SyncPolicy | str | None = None,
    total: int | None = None,
    progress: bool | None = None,
) -> Stream:
    """Open (or create) the JSONL stream at ``path`` inside the workspace for appending.

    ``key`` maps a record to what identifies it; ``record_key in stream`` tells whether it was
    written before. ``total`` (the expected number of records) turns on a progress bar when stdout
    is a terminal; ``progress=False`` turns it off, ``progress=True`` shows one without a total.
    """
    if not callable(key):
        raise ValidationError(
            "key must be a function from a record to its key, e.g. lambda r: r['id']"
        )
    policy = as_policy(sync)
    if total is not None and total < 0:
        raise ValidationError(f"total={total} must not be negative")
    full = names.inside(ws.root, path, "stream path")
    if full.is_dir():
        raise ValidationError(f"stream path {path!r} is a folder; name a .jsonl file inside it")
    refuse_foreign(ws, full, path)
    if task_id is not None:
        task_id = ws.resolve_task(task_id)
    full.parent.mkdir(parents=True, exist_ok=True)
    rel = full.relative_to(ws.root.resolve()).as_posix()
    return Stream(
        ws, full, rel, key, task_id=task_id, policy=policy, total=total, progress=progress
    )


__all__ = [
    "DEFAULT_SYNC",
    "JsonlError",
    "JsonlRead",
    "Stream",
    "SyncPolicy",
    "open_stream",
    "read_jsonl",
]
