"""``cairn refresh``: the full pass over the readable tree.

Every other command looks only at what changed on disk since the last look and at the files of
the recently active tasks; this one looks at every artifact, so an edit in place of an old task's
file is taken in too.
"""

from __future__ import annotations

import argparse
from typing import Any

from cairn.cli.common import open_ws

ORDER = 1


def register(sub: Any) -> None:
    p = sub.add_parser(
        "refresh",
        help="look at every readable file: rewrite what is not the store's newest, take in hand "
        "edits (other commands look only at what changed and at the active tasks' files)",
    )
    p.set_defaults(func=cmd_refresh)


def _hand_edits(ws: Any) -> int:
    with ws.store.read() as tx:
        return int(tx.checkpoints.count_by_source("hand-edit"))


def cmd_refresh(args: argparse.Namespace) -> int:
    ws = open_ws(args, reconcile=False)
    before = _hand_edits(ws)
    ws.refresh()
    taken = _hand_edits(ws) - before
    print(
        f"Rewrote the readable tree of {ws.root} from the store"
        + (f"; {taken} hand edit(s) taken in" if taken else "")
    )
    return 0
