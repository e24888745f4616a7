"""What an area written in plain SQL needs, so that one implementation serves both SQL backends.

``Conn``: ``execute(sql, params)`` with ``?`` placeholders, returning a cursor whose rows are read
by column name (``fetchone``, ``fetchall``, iteration, ``rowcount``), and ``executemany``. A sqlite3
connection is one as it is; PostgreSQL's is wrapped (``postgres.conn.Qmark``).

``Dialect``: the few places where the backends' SQL really differs, one small object per backend
(``sqlite/dialect.py``, ``postgres/dialect.py``): the order rows were made in where no id gives
it, rows as plain tuples on the hot reads, and the catalogue (which tables, columns and references
a store has), for the records area."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol


class Conn(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


class Dialect(Protocol):
    def creation_order(self, conn: Conn, table: str) -> str:
        """An ``ORDER BY`` list that reads ``table`` in the order its rows were made (a tie of
        timestamps within a millisecond, a dump in the order it was written)."""
        ...

    def tuples(self, cursor: Any) -> Iterable[Sequence[Any]]:
        """The cursor's rows as tuples in column order: for the reads that touch every row (each
        artifact's stat before every command), where a dict per row costs."""
        ...

    # -- the catalogue (the records area) --------------------------------------------------------
    def tables(self, conn: Conn) -> list[str]:
        """The store's tables (every one, bookkeeping included), by name."""
        ...

    def references(self, conn: Conn, tables: Sequence[str]) -> list[tuple[str, str]]:
        """(child, parent) for every foreign key among ``tables``."""
        ...

    def columns(self, conn: Conn, table: str) -> list[str]:
        """The record fields of ``table`` in a fixed order (columns that only order rows left out)."""
        ...

    def defer_references(self, conn: Conn) -> None:
        """Check foreign keys at commit from here on in this transaction."""
        ...

    def clear(self, conn: Conn, tables: Sequence[str]) -> None:
        """Remove every row of ``tables``, append-only ones included, and restart their ids."""
        ...
