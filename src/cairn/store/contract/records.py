"""Records: every stored record set as plain rows, for a portable dump and its restore
(``cairn store export`` / ``import`` / ``copy``, :mod:`cairn.store.dump`).

A *record set* is what a SQL backend keeps in one table (``tasks``, ``phases``, ``events`` ...),
its fields the columns, each value JSON-able: text, a whole number, a real number or null
(booleans are 0/1, JSON documents their text). The names and fields are the same on every SQL
backend, so a dump of one restores into another. Leases are not records: they are claims of live
processes and stay with the store they were taken in. Neither are the values the store derives
from its records (:data:`DERIVED`): a dump leaves them out and a load derives them again.

The memory store keeps nothing past its process and has no record sets to dump.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

# Bookkeeping that is not part of the history (the live claims of running processes).
NOT_RECORDS = ("leases",)

# Derived state: values the store keeps from its other records (by a trigger, or in the write
# that adds what they count). Not records: `fields`/`rows`/`count` leave them out, so a dump
# neither writes nor hashes them, and a restore derives each again after loading
# (`RecordsArea.derive`). Per record set, its derived fields; for `meta`, whose records are named
# values, the names of the derived ones. A new derived column is one entry here, plus the
# statement that derives it in the SQL stores' records (`store/sqlite/records.py`, `_DERIVE`).
DERIVED: dict[str, tuple[str, ...]] = {
    "meta": ("checkpoint_versions",),  # a trigger: SQLite migration 0007, PostgreSQL 0001/0005
    "tasks": (
        "step_count",  # the task's steps, added to by each new step (SQLite 0009)
        "checkpoint_seq",  # the seq of its newest version, given by each write (SQLite 0016, pg 0009)
    ),
}


def source_fields(name: str, fields: Sequence[str]) -> list[int]:
    """The positions in ``fields`` (of record set ``name``) of the fields that are not derived."""
    skip = () if name == "meta" else DERIVED.get(name, ())
    return [i for i, f in enumerate(fields) if f not in skip]


def is_derived(name: str, fields: Sequence[str], values: Sequence[Any]) -> bool:
    """Whether a record of ``name`` is itself a derived value (one of ``meta``'s counters, as a
    dump made before they were left out holds them)."""
    if name != "meta" or "key" not in fields:
        return False
    return values[list(fields).index("key")] in DERIVED["meta"]


class RecordsArea(Protocol):
    def sets(self) -> list[str]:
        """The record sets this store holds, in an order a restore can load them: a set after
        the sets it references, ``meta`` last (:func:`parents_first`)."""
        ...

    def fields(self, name: str) -> list[str]:
        """The fields of a record set, in a fixed order; derived ones (:data:`DERIVED`) left out."""
        ...

    def rows(self, name: str) -> Iterator[list[Any]]:
        """Every record of the set, its values in :meth:`fields` order; derived records (the
        counters of ``meta``) left out."""
        ...

    def count(self, name: str) -> int:
        """The number of records :meth:`rows` gives."""
        ...

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert records as given, ids included; id counters go on after them. Fields the store
        does not have are refused, fields it has but the rows lack take their defaults; derived
        fields and records are not loaded (:meth:`derive` makes them). ``meta`` records replace
        the store's own. References between sets are checked when the transaction commits, so
        the sets may be loaded in any order."""
        ...

    def derive(self) -> None:
        """Derive every value of :data:`DERIVED` again from the records the store now holds (the
        last step of a load, before its read-back)."""
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
    pairs), ties by name, and ``meta`` last (where dumps have always had it)."""
    todo = sorted(n for n in names if n != "meta")
    parents = {n: {p for c, p in refs if c == n and p != n and p in todo} for n in todo}
    out: list[str] = []
    while todo:
        ready = [n for n in todo if not parents[n] - set(out)] or todo[:1]  # a cycle: break it
        out.append(ready[0])
        todo.remove(ready[0])
    return out + (["meta"] if "meta" in names else [])
