"""What an area written in plain SQL needs, so that one implementation serves both SQL backends.

``Conn``: ``execute(sql, params)`` with ``?`` placeholders, returning a cursor whose rows are read
by column name (``fetchone``, ``fetchall``, iteration, ``rowcount``), and ``executemany``. A sqlite3
connection is one as it is; PostgreSQL's is wrapped (``postgres.conn.Qmark``, or
``postgres.dialect.Marks`` for the areas that take their locks themselves).

``Dialect``: the few places where the backends really differ, one small object per connection
(``sqlite/dialect.py``, ``postgres/dialect.py``): the locks a PostgreSQL write takes as it goes,
the store's clock, a list of keys as one parameter, an update of many rows in one statement, the
order rows were made in, and the catalogue (the records area)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from typing import Any, Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


class Conn(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


class Dialect(Protocol):
    clock: str
    """SQL for the store's clock in seconds since the epoch; binds :meth:`clock_params`."""

    clock_column: str
    """Added to a select list: the store's clock as the column ``clock`` (or nothing, when
    :meth:`read_clock` gives it)."""

    without_row: tuple[tuple[str, str], ...]
    """Derived values (``contract.records.DERIVED``) this backend keeps in no row of their own
    (SQLite's checkpoint count is the largest rowid): a restore has nothing of them to derive."""

    def clock_params(self) -> tuple[Any, ...]:
        """The parameters each ``clock`` in a statement binds, in order (read once per call)."""
        ...

    def clock_plus(self, clock: tuple[Any, ...], seconds: float) -> tuple[str, tuple[Any, ...]]:
        """SQL for ``clock`` (what :meth:`clock_params` gave) plus ``seconds``, and what it binds."""
        ...

    def read_clock(self) -> float | None:
        """The store's clock for the rows a read returns; None: each row's ``clock`` column."""
        ...

    def store_wide(self, what: str) -> None:
        """Before a statement that gives a store-wide id or spans tasks (PostgreSQL refuses it
        in a write scoped to a task or to rows by key: ``postgres/locks.py``)."""
        ...

    def any_of(self, column: str, values: Sequence[Any]) -> list[tuple[str, tuple[Any, ...]]]:
        """``column`` is one of ``values``, as (condition, parameters) statements to run in turn
        (none for no values)."""
        ...

    def update_held(
        self, set_sql: str, params: Sequence[Any], held: Sequence[tuple[str, str]]
    ) -> list[str]:
        """Run ``set_sql`` (``UPDATE leases SET …``, binding ``params``) on each row of ``held``
        (key, holder); the keys it changed, in ``held``'s order."""
        ...

    def creation_order(self, table: str) -> str:
        """An ``ORDER BY`` list reading ``table`` in the order its rows were made (a tie of
        timestamps within a millisecond, a dump in the order it was written)."""
        ...

    # -- the catalogue and bulk moves (the records area) -----------------------------------------
    def tables(self) -> list[str]:
        """The store's tables, bookkeeping included."""
        ...

    def references(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        """(child, parent) for the foreign keys among ``tables``."""
        ...

    def columns(self, table: str) -> list[str]:
        """The record fields of ``table`` in a fixed order (columns that only order rows left out)."""
        ...

    def lists(self, cursor: Any, fields: Sequence[str]) -> Iterator[list[Any]]:
        """The cursor's rows as lists of ``fields``."""
        ...

    def defer_references(self) -> None:
        """Check foreign keys at the commit from here on in this transaction."""
        ...

    def count_now(self) -> None:
        """Run the triggers that keep counts in ``meta`` at each insert from here on in this
        transaction (and those held back so far now), not at the commit."""
        ...

    def clear(self, tables: Sequence[str]) -> None:
        """Remove every row of ``tables``, append-only ones included, and restart their ids."""
        ...
