"""Records: every stored record set as plain rows, for a portable dump and its restore
(``cairn store export`` / ``import`` / ``copy``, :mod:`cairn.store.dump`).

A *record set* is what a SQL backend keeps in one table (``tasks``, ``phases``, ``events`` ...),
its fields the columns, each value JSON-able: text, a whole number, a real number or null
(booleans are 0/1, JSON documents their text). The names and fields are the same on every SQL
backend, so a dump of one restores into another. Leases are not records: they are claims of live
processes and stay with the store they were taken in.

The memory store keeps nothing past its process and has no record sets to dump.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

# Bookkeeping that is not part of the history (the live claims of running processes).
NOT_RECORDS = ("leases",)


class RecordsArea(Protocol):
    def sets(self) -> list[str]:
        """The record sets this store holds, in an order a restore can load them: a set after
        the sets it references, ``meta`` last (:func:`parents_first`)."""
        ...

    def fields(self, name: str) -> list[str]:
        """The fields of a record set, in a fixed order."""
        ...

    def rows(self, name: str) -> Iterator[list[Any]]:
        """Every record of the set, its values in :meth:`fields` order."""
        ...

    def count(self, name: str) -> int: ...

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert records as given, ids included; id counters go on after them. Fields the store
        does not have are refused, fields it has but the rows lack take their defaults. ``meta``
        records replace the store's own, and are loaded last: they hold counters the store keeps
        as other records arrive. References between sets are checked when the transaction
        commits, so the other sets may be loaded in any order."""
        ...

    def clear(self) -> None:
        """Remove every record of every set (a restore told to replace what the store holds)."""
        ...

    def migrations(self) -> list[str]:
        """The names of the schema migrations the store has applied."""
        ...


def is_empty(area: RecordsArea, counts: Mapping[str, int] | None = None) -> bool:
    """Whether the store holds no history (only ``meta`` counters of an empty store)."""
    found = counts if counts is not None else {n: area.count(n) for n in area.sets()}
    return not any(n for name, n in found.items() if name != "meta")


def parents_first(names: list[str], refs: list[tuple[str, str]]) -> list[str]:
    """``names`` ordered so that a set comes after the sets it references (``(child, parent)``
    pairs), ties by name, and ``meta`` last (its counters follow the other sets)."""
    todo = sorted(n for n in names if n != "meta")
    parents = {n: {p for c, p in refs if c == n and p != n and p in todo} for n in todo}
    out: list[str] = []
    while todo:
        ready = [n for n in todo if not parents[n] - set(out)] or todo[:1]  # a cycle: break it
        out.append(ready[0])
        todo.remove(ready[0])
    return out + (["meta"] if "meta" in names else [])
