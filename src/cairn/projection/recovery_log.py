"""``logs/compaction_recovery.log``: one entry per recovery, rendered from the store."""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from cairn.domain.workspace import Workspace

RECOVERY_LOG_ENTRIES = 1000


def log_rel(ws: Workspace) -> str:
    return f"{ws.config.logs_dir}/compaction_recovery.log"


def log_text(ws: Workspace) -> str:
    """The recovery log as the store says it should read."""
    return _render(ws)[0]


def _render(ws: Workspace) -> tuple[str, list[int] | None]:
    """The log's text, and what its stamp records of it (the newest recovery in it and how many
    it holds) when it holds every recovery so far; None when older ones were left out."""
    from cairn.recovery.brief import render_log

    # The file holds the most recent RECOVERY_LOG_ENTRIES recoveries, so that rewriting it
    # after each recovery stays cheap after months of them; all are kept in the store.
    with ws.store.read() as tx:
        rows = tx.recoveries.recent(RECOVERY_LOG_ENTRIES)
        earlier = (
            tx.recoveries.count(before_id=rows[0].id) if len(rows) == RECOVERY_LOG_ENTRIES else 0
        )
    text = render_log(rows)
    if earlier:
        text = (
            f"({earlier} earlier recoveries are in the store: "
            "`cairn log --type recovery --limit N`)\n\n" + text
        )
        return text, None
    return text, [rows[-1].id if rows else 0, len(rows)]


def _file_stamp(path: Path) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino] if stat.S_ISREG(st.st_mode) else None


def bring_log_current(ws: Workspace, path: Path, stamp: list[int] | None) -> list[int] | None:
    """Write the log after recoveries were logged; returns its new stamp (None: none to keep).

    ``stamp`` is what cairn recorded when it last wrote the file: its size, mtime and inode, the
    newest recovery in it and how many it holds (every recovery up to that one). While the file
    is still exactly that, and the log still holds every recovery, the new recoveries' entries
    go after the text already there, which is the text rendering them all gives, without reading
    every row back. Anything else (a hand edit, a file cairn did not write, the log past
    RECOVERY_LOG_ENTRIES) renders it whole. The file is replaced atomically either way."""
    from cairn.core.fsutil import atomic_write
    from cairn.recovery.brief import render_log

    text: str | None = None
    after: list[int] | None = None
    if stamp is not None and len(stamp) == 5 and _file_stamp(path) == stamp[:3]:
        size, last_id, held = stamp[0], stamp[3], stamp[4]
        with ws.store.read() as tx:
            total = tx.recoveries.count()
            # The newest recovery the file holds, then the ones after it: the file's stays
            # first only if the store is the one the file was rendered from.
            fits = held <= total <= RECOVERY_LOG_ENTRIES
            rows = tx.recoveries.recent(total - held + 1) if fits else []
        known, new = (rows[:1], rows[1:]) if held else ([], rows)
        if fits and [r.id for r in known] == ([last_id] if held else []):
            if not new:
                return stamp  # nothing new since: the file is current
            with open(path, "rb") as fh:
                old = fh.read()
            if len(old) == size:
                added = render_log(new)
                text = old.decode("utf-8") + "\n" + added if old else added
                after = [new[-1].id, total]
    if text is None:
        text, after = _render(ws)
    atomic_write(path, text.encode("utf-8"))
    written = _file_stamp(path)
    return None if after is None or written is None else [*written, *after]


def log_is_current(ws: Workspace, path: str) -> bool:
    """Whether the file holds the newest recovery (its writer may have been killed before
    rendering it). Cheap: one look-up and the end of the file."""
    with ws.store.read() as tx:
        last = tx.recoveries.newest()
        # Timestamps have millisecond precision: count the newest ones that share it.
        same = tx.recoveries.count_at(last.ts, after_id=last.id - 50) if last else 0
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return False  # a link or a FIFO planted there: never read, the log is rewritten
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 65536))
            tail = fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return False
    if last is None:
        return not tail
    head = f"{last.ts}: "
    return tail.count(f"\n{head}") + tail.startswith(head) >= same
