"""``logs/compaction_recovery.log``: one entry per recovery, rendered from the store."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

RECOVERY_LOG_ENTRIES = 1000


def log_rel(ws: Workspace) -> str:
    return f"{ws.config.logs_dir}/compaction_recovery.log"


def log_text(ws: Workspace) -> str:
    """The recovery log as the store says it should read."""
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
    return text


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
