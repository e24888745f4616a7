"""Small filesystem helpers: atomic replacement, a projection lock, bounded reads of user files."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from cairn.core.procs import pid_alive


def atomic_write(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, never a mix.

    The readable tree is a projection that can be regenerated from the store, so by default it pays
    no fsync; ``sync=True`` is for files that are the only copy of something.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if data and _fallocate is not None:
            # Allocating the blocks up front spares ext4's replace-by-rename heuristic
            # (auto_da_alloc) a synchronous block allocation in rename: ~1/3 of a small write.
            with contextlib.suppress(OSError):
                _fallocate(fd, 0, len(data))
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        fsync_dir(path.parent)


_fallocate = getattr(os, "posix_fallocate", None)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path) -> int:
    """Delete temporary files a killed process left behind (``.name.PID.tmp``) whose PID is gone."""
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in os.scandir(folder):
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        parts = name.rsplit(".", 2)
        try:
            pid = int(parts[-2])
        except (ValueError, IndexError):
            continue
        if pid != os.getpid() and not pid_alive(pid):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, held while a projection reads the store and writes its file.

    Without it two processes could commit v5 and v6 and then write their files in the opposite
    order, leaving v5 on disk. Under the lock each writer projects the store's newest state.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# How long a FIFO, a pipe or a device may keep cairn waiting for its next bytes before the read is
# refused: a FIFO nobody writes to would otherwise hang the command for ever.
READ_IDLE_S = 30.0


def read_bounded(path: Path, limit: int, what: str, hint: str = "") -> bytes:
    """The bytes of a file a user named, read in at most ``limit + 1`` bytes and refused beyond.

    A regular file is refused by its size before it is read; a FIFO, pipe or device (``/dev/zero``,
    ``/dev/stdin`` fed by ``yes``) has no size, so its read stops one byte past the limit, and a
    source that stays silent for ``READ_IDLE_S`` (a FIFO with no writer) or a terminal is refused.
    ``what`` names the file in messages (``--file notes.md``); ``hint`` says what to do instead.
    """
    from cairn.core.errors import NotFound, UsageError, ValidationError

    tail = f"; {hint}" if hint else ""
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ValidationError(f"{what} is a folder; give a file")
        if stat.S_ISSOCK(st.st_mode):
            raise ValidationError(f"{what} is a socket; give a file")
        regular = stat.S_ISREG(st.st_mode)
        if regular and st.st_size > limit:
            raise ValidationError(
                f"{what} is {st.st_size:,} bytes, over the {limit:,}-byte limit{tail}"
            )
        fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | (0 if regular else os.O_NONBLOCK))
    except FileNotFoundError:
        raise NotFound(f"{what} does not exist; give the path of a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what}: {exc.strerror or exc}") from None
    try:
        if os.isatty(fd):
            raise ValidationError(
                f"{what} is a terminal; give a file, or pipe the content into the command"
            )
        data = _read_upto(fd, limit + 1, regular, what)
    except OSError as exc:
        raise UsageError(f"cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        source = "" if regular else " (a device, FIFO or pipe: it was read no further)"
        raise ValidationError(f"{what} holds over the {limit:,}-byte limit{source}{tail}")
    return data


def _read_upto(fd: int, most: int, regular: bool, what: str) -> bytes:
    import select

    from cairn.core.errors import ValidationError

    chunks: list[bytes] = []
    got = 0
    poller = None if regular else select.poll()
    if poller is not None:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while got < most:
        if poller is not None and not poller.poll(READ_IDLE_S * 1000):
            raise ValidationError(
                f"{what} gave nothing for {READ_IDLE_S:g} s (a FIFO with no writer?); write the "
                "content to a file and give that"
            )
        try:
            chunk = os.read(fd, min(most - got, 1 << 20))
        except BlockingIOError:
            continue  # woken without data (a writer came and went): wait again
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
