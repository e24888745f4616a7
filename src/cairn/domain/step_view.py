"""The steps the progress file shows, kept from one step to the next.

The file shows a bounded view: every step while a task has at most ``LIMIT``, then the oldest
``HALF`` steps not done that come before the newest ``HALF``, then those newest. Each step renders
the file again, and reading and formatting up to 200 steps each time made a step cost more as open
steps piled up. So the view a write leaves is remembered with the journal's newest event id at
that moment: the next write of the same process finds the same id only if nothing else was
journaled in between (every change to a step is journaled in its transaction), and then changes
the remembered view by the one step it wrote instead of reading the view again. Anything else (an
id that moved, a case the rules below do not cover) reads the view from the store, as before.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left

from cairn.core.templates import progress_line

TYPE_CHECKING = False  # importing typing costs ~3 ms of start-up (tests/test_lazy_imports.py)
if TYPE_CHECKING:
    from cairn.store import Store, Transaction
    from cairn.store.contract.steps import StepLine, StepRow

LIMIT = 200  # steps the progress file shows at most; the store keeps them all
HALF = LIMIT // 2


class View:
    """The steps shown: ``older`` steps not done (empty while total <= LIMIT), then ``recent``,
    the newest HALF (every step while total <= LIMIT), each with its line in the file
    (``progress_line``); ``token``: the journal's newest event id when this view was current."""

    __slots__ = ("older", "older_lines", "recent", "recent_lines", "token", "total")

    def __init__(
        self,
        total: int,
        older: list[StepLine],
        recent: list[StepLine],
        older_lines: list[str],
        recent_lines: list[str],
    ) -> None:
        self.total = total
        self.older = older
        self.recent = recent
        self.older_lines = older_lines
        self.recent_lines = recent_lines
        self.token = -1

    def lines(self) -> list[str]:
        return [*self.older_lines, *self.recent_lines]

    def shown(self) -> int:
        return len(self.older) + len(self.recent)


def read(tx: Transaction, task_id: str, total: int) -> View:
    """The view as the store has it."""
    if total <= LIMIT:
        recent = tx.steps.lines(task_id)
        older: list[StepLine] = []
    else:
        # A twelve-hour run records thousands of steps, so the file keeps a bounded view (older
        # open steps, then the newest) and the full list stays in the store (`cairn task show`).
        recent = tx.steps.lines(task_id, limit=HALF)
        first_recent = recent[0][0] if recent else 0
        older = tx.steps.open_lines_before(task_id, first_recent, limit=HALF)
    return View(
        total, older, recent, [progress_line(s) for s in older], [progress_line(s) for s in recent]
    )


def advance(view: View, row: StepRow, added: bool, total: int) -> bool:
    """Change ``view`` by the one step just written (``added`` or updated), as reading it again
    would; False when that needs the store (then ``view`` is not to be used)."""
    line = (row.id, row.state, row.text, row.phase)
    if added:
        if total != view.total + 1 or (total > LIMIT and view.total <= LIMIT):
            return False  # not the step after the view, or the view's shape changes
        view.total = total
        view.recent.append(line)
        view.recent_lines.append(progress_line(line))
        if total > LIMIT:
            # The oldest of the newest slides out; not done, it is the newest older open step,
            # which is shown if fewer than HALF are (the view keeps the oldest HALF).
            gone, gone_line = view.recent.pop(0), view.recent_lines.pop(0)
            if gone[1] != "done" and len(view.older) < HALF:
                view.older.append(gone)
                view.older_lines.append(gone_line)
        return True
    if total != view.total:
        return False
    for steps, lines in ((view.recent, view.recent_lines), (view.older, view.older_lines)):
        i = bisect_left(steps, row.id, key=lambda s: s[0])
        if i < len(steps) and steps[i][0] == row.id:
            if steps is view.older and row.state == "done":
                if len(steps) == HALF:
                    return False  # the next open step behind it comes into view: read it
                del steps[i], lines[i]
                return True
            steps[i] = line
            lines[i] = progress_line(line)
            return True
    # Not shown: while every step is shown that cannot be; else it is older than the newest and
    # stays out of view if it is done (an open one may come into view: read it).
    return total > LIMIT and row.state == "done"


# The view each task's last write left, per store (so per connection and process).
_VIEWS: weakref.WeakKeyDictionary[Store, dict[str, View]] = weakref.WeakKeyDictionary()


def take(store: Store, task_id: str, token: int) -> View | None:
    """The remembered view if the journal is as that write left it (``token`` is its newest
    event id now), else None. Taken out: a write that fails leaves none behind."""
    views = _VIEWS.get(store)
    view = views.pop(task_id, None) if views is not None else None
    return view if view is not None and view.token == token else None


def keep(store: Store, task_id: str, view: View, token: int) -> None:
    """Remember ``view`` after its write committed; ``token``: that write's event id."""
    view.token = token
    views = _VIEWS.get(store)
    if views is None:
        views = _VIEWS.setdefault(store, {})
    views[task_id] = view
