"""Processes on this host: is a pid alive (and still the same process), signal a process group.

A pid alone can be reused by the kernel once its process is gone; where ``/proc`` exists a process
is also identified by its start time (field 22 of ``/proc/PID/stat``), so a recorded pid is known
to be *that* process and not a newcomer that got the same number.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


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
