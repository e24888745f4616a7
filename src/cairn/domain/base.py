"""What every domain module shares, below all of them: the clock, the one name lookup, and the
shape of a workspace as the domain sees it (so that no domain module imports ``workspace.py``,
which imports them all)."""

from __future__ import annotations

import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

from cairn.core import names
from cairn.core.errors import NotFound

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


if TYPE_CHECKING:
    from cairn.core.config import Config
    from cairn.domain.notices import Change
    from cairn.store import Store, Transaction
    from cairn.store.contract.tasks import TaskRow


class LazyModule:
    """A module imported when one of its names is first looked up: for the rules' modules that
    ``workspace.py`` delegates to, so that a command imports only those it uses."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            from cairn.core.stdlib_start import import_module

            module = self._module = import_module(self._name)
        return getattr(module, attr)


# (second, its text up to the milliseconds): a write stamps its rows and event once, and formatting
# a datetime each time cost more than the rest of the stamp. One tuple, replaced whole, so that a
# thread never pairs one second with another's text.
_SECOND: tuple[int, str] = (-1, "")


def now() -> str:
    """UTC, to the millisecond (truncated), e.g. ``2026-12-01T16:40:22.853Z``."""
    global _SECOND
    second, ns = divmod(time.time_ns(), 1_000_000_000)
    seen, text = _SECOND
    if second != seen:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _SECOND = (second, text)
    return f"{text}{ns // 1_000_000:03d}Z"


def canonical(tx: Transaction, task_id: str, *, deleted: bool = False) -> TaskRow:
    """The stored task the caller's id names (any case); NotFound says how to make it. Names are
    normalised here, once: the id it returns is what every later step uses. A deleted task is
    not found, unless ``deleted`` (its history is still read)."""
    names.task_id(task_id)
    row = tx.tasks.get(task_id)
    if row is None:
        raise NotFound(
            f"no task {task_id!r}; create it with `cairn task new {task_id}` "
            "or list tasks with `cairn task list`"
        )
    if row.state == "deleted" and not deleted:
        raise NotFound(
            f"task {row.id!r} was deleted; its history stays in the store "
            f"(`cairn log --task {row.id}`)"
        )
    return row


# Canonical ids by key, per store: a lookup once made stays true until this process renames or
# deletes a task (``forget_ids``); a key not found is not remembered.
_IDS: weakref.WeakKeyDictionary[Store, dict[str, str]] = weakref.WeakKeyDictionary()


def forget_ids(store: Store) -> None:
    _IDS.pop(store, None)


def canonical_id(site: Site, task_id: str) -> str:
    """``canonical(...).id`` in its own read, remembered: a write needs the stored id before its
    transaction (the projector's hand-edit check), and this keeps that off the write's path."""
    known = _IDS.get(site.store)
    if known is None:
        known = _IDS.setdefault(site.store, {})
    found = known.get(task_id)  # this very spelling seen (and checked) before
    if found is not None:
        return found
    names.task_id(task_id)
    key = names.task_key(task_id)
    found = known.get(key)
    if found is None:
        with site.store.read() as tx:
            found = known[key] = canonical(tx, task_id).id
    known[task_id] = found
    return found


class Projection(Protocol):
    """The projector as the domain calls it (the seam the projection layer owns): only to take
    in hand edits before a rule reads them. What changed, the domain announces (``announce``)."""

    def reconcile(self, only: tuple[str, str] | None = None) -> list[str]: ...


class Site(Protocol):
    """A workspace as the domain modules use it: where it is, its settings, its store, and the
    projector to tell what changed."""

    @property
    def root(self) -> Path: ...

    @property
    def config(self) -> Config: ...

    @property
    def store(self) -> Store: ...

    @property
    def projector(self) -> Projection: ...

    def announce(self, change: Change) -> None:
        """Tell the listeners (the readable tree) of a commit, after it."""
        ...

    def before_write(self, task_id: str, kind: str) -> None:
        """Before a checkpoint replaces its artifact: a hand edit of it is taken in first."""
        ...
