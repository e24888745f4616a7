"""Reading back a file of the readable tree without following a link out of the workspace.

Artifacts, review files and the recovery log are files a person (or an agent) may replace with a
symlink to anything, or with a FIFO. What cairn reads back from them becomes a version in the store
and reaches a recovery brief, so a link that leads outside the workspace is never read through, and
only a regular file is read at all (a FIFO would hang the command, a device never end).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotReadable(Exception):
    """The path holds something cairn does not read back: ``why`` says what, in a few words."""

    def __init__(self, why: str, dest: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.dest = dest  # where a link leads, when it is one


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def leads_outside(root: Path, full: str) -> str | None:
    """Where ``full`` really is when a link in it leads outside ``root``, else None."""
    real = os.path.realpath(full)
    return None if _inside(str(root.resolve()), real) else real


def read_inside(root: Path, full: str) -> bytes:
    """The bytes of the regular file at ``full``, which must really lie inside ``root``.

    FileNotFoundError when there is nothing there; NotReadable for a link that leads outside, a
    folder, a FIFO, a device or a socket. The check is made again on the opened file (its
    ``/proc/self/fd`` name), so that a link swapped in between the look and the open is caught too.
    """
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        dest = leads_outside(root, full)
        if dest is not None:
            raise NotReadable("a link to a file outside the workspace", dest)
        st = os.stat(full)
    if not stat.S_ISREG(st.st_mode):
        raise NotReadable("not a regular file")
    fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # no /proc: the look above stands
            real = os.path.realpath(full)
        if not _inside(str(root.resolve()), real):
            raise NotReadable("a link to a file outside the workspace", real)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotReadable("not a regular file")
        with open(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)
