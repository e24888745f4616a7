"""``logs/compaction_recovery.log``: one entry per recovery, rendered from the store."""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from cairn.domain.workspace import Workspace

RECOVERY_LOG_ENTRIES = 1000
# Past the cap, a recovery drops the oldest entry: the stamp keeps the lengths of this many, so a
# full render (every row read back) comes once per this many recoveries, not at each.
LENGTHS_KEPT = 64


def log_rel(ws: Workspace) -> str:
    return f"{ws.config.logs_dir}/compaction_recovery.log"


def log_text(ws: Workspace) -> str:
    """The recovery log as the store says it should read."""
    return _render(ws)[0]


def _header(earlier: int) -> str:
    return f"({earlier} earlier recoveries are in the store: `cairn log --type recovery --limit N`)\n\n"


def _render(ws: Workspace) -> tuple[str, list[int]]:
    """The log's text, and what its stamp records of it: the newest recovery in it and how many
    it holds, and when older ones were left out, how many and the byte lengths of its first
    LENGTHS_KEPT entries (so that the next recoveries can drop them without a full render)."""
    from cairn.recovery.brief import render_log

    # The file holds the most recent RECOVERY_LOG_ENTRIES recoveries, so that rewriting it
    # after each recovery stays cheap after months of them; all are kept in the store.
    with ws.store.read() as tx:
        rows = tx.recoveries.recent(RECOVERY_LOG_ENTRIES)
        earlier = (
            tx.recoveries.count(before_id=rows[0].id) if len(rows) == RECOVERY_LOG_ENTRIES else 0
        )
    text = render_log(rows)
    after = [rows[-1].id if rows else 0, len(rows)]
    if earlier:
        lengths = [len(render_log([r]).encode("utf-8")) for r in rows[:LENGTHS_KEPT]]
        return _header(earlier) + text, [*after, earlier, *lengths]
    return text, after


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
    every row back; past RECOVERY_LOG_ENTRIES, the oldest entries are dropped from its start by
    the lengths the stamp kept. Anything else (a hand edit, a file cairn did not write, a store
    put back) renders it whole. The file is replaced atomically either way."""
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
    elif stamp is not None and len(stamp) > 6 and _file_stamp(path) == stamp[:3]:
        dropped = _drop_and_append(ws, path, stamp)
        if dropped is True:
            return stamp  # nothing new since: the file is current
        if dropped:
            data, after = dropped
            atomic_write(path, data)
            written = _file_stamp(path)
            return None if written is None else [*written, *after]
    if text is None:
        text, after = _render(ws)
    atomic_write(path, text.encode("utf-8"))
    written = _file_stamp(path)
    return None if after is None or written is None else [*written, *after]


def _drop_and_append(ws: Workspace, path: Path, stamp: list[int]) -> tuple[bytes, list[int]] | bool:
    """Past the cap: the file as stamped, less its oldest entries, plus the new ones, which is the
    text a full render gives, and its stamp; True when nothing is new, False: render it whole."""
    from cairn.recovery.brief import render_log

    size, last_id, held, earlier, lengths = stamp[0], stamp[3], stamp[4], stamp[5], stamp[6:]
    with ws.store.read() as tx:
        new_count = tx.recoveries.count() - earlier - held
        if held != RECOVERY_LOG_ENTRIES or not 0 <= new_count <= min(len(lengths), held - 1):
            return False
        rows = tx.recoveries.recent(new_count + 1)
    if not rows or rows[0].id != last_id:
        return False  # not the store the file was rendered from
    if len(rows) == 1:
        return True
    with open(path, "rb") as fh:
        old = fh.read()
    header = _header(earlier).encode("utf-8")
    if len(old) != size or not old.startswith(header):
        return False
    cut = len(header) + sum(lengths[:new_count]) + new_count  # each entry and its blank line
    earlier += new_count
    data = _header(earlier).encode("utf-8") + old[cut:] + b"\n" + render_log(rows[1:]).encode()
    return data, [rows[-1].id, held, earlier, *lengths[new_count:]]


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
