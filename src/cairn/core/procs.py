"""Processes on this host: is a pid alive (and still the same process), signal a process group.

A pid alone can be reused by the kernel once its process is gone; where ``/proc`` exists a process
is also identified by its start time (field 22 of ``/proc/PID/stat``), so a recorded pid is known
to be *that* process and not a newcomer that got the same number.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn


def proc_info(pid: int) -> tuple[str, str] | None:
    """(start time, state) of a live process from /proc, or None if there is none."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2 :].split()
    return rest[19], rest[0]


def start_marker(pid: int) -> str | None:
    """What tells this process apart from a later one with the same pid (None without /proc)."""
    info = proc_info(pid)
    return info[0] if info else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(pid: int | None, start: str | None) -> bool:
    """Whether ``pid`` runs and, given its ``start`` marker, is still that process (a zombie has
    exited)."""
    if not pid:
        return False
    if Path("/proc/self/stat").exists():
        info = proc_info(pid)
        if info is None or info[1] == "Z":
            return False
        return start is None or info[0] == start
    return pid_alive(pid)


def signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (a gone group is not an error)."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        # Before the child ran setsid() its group is not its pid yet.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    except PermissionError:
        pass


# What a process ending through :func:`exit_now` closes first, as the interpreter's teardown would
# have (the workspaces' stores: SQLite checkpoints its WAL when the last connection closes).
_CLOSERS: list[Callable[[], None]] = []


def close_before_exit_now(close: Callable[[], None]) -> None:
    if close not in _CLOSERS:
        _CLOSERS.append(close)


def exit_now(code: int) -> NoReturn:
    """End a short command with ``code`` without the interpreter's teardown.

    The teardown (every module and object freed one by one) was ~7 ms of a fresh ``cairn recover``,
    more than its SQL. What matters of it is done here first: the exit handlers run, what
    registered with :func:`close_before_exit_now` is closed, and standard output and error are
    flushed. With another thread alive, or if any of that fails, the process exits the usual way.
    """
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)  # the interpreter's own exit waits for them
    import atexit

    atexit._run_exitfuncs()
    try:
        for close in _CLOSERS:
            close()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except Exception:
        sys.exit(code)  # said (or retried) by the usual exit
    os._exit(code)
