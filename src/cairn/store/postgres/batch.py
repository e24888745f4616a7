"""A transaction's connection as the PostgreSQL areas see it: statements whose result nobody
reads are held back and sent with the next one that is read, in one message.

Each statement is a network round trip, and on a loaded machine each round trip is two process
wake-ups; a checkpoint write would take a dozen. So BEGIN, the locks, and the writes an area
declares with :meth:`TxConn.later` (a task's touch, a projection row) wait in a buffer; the next
:meth:`TxConn.execute` sends the buffer and its own statement as one multi-statement message
(the simple query protocol, parameters bound client-side by psycopg, which quotes them for this
connection) and returns the cursor on the last result. A statement with nothing waiting goes as
usual (the extended protocol, prepared by psycopg after a few uses). An error in a held-back
statement surfaces at the next send; the transaction fails as it would have.
"""

from __future__ import annotations

from typing import Any

import psycopg


class TxConn:
    __slots__ = ("_c", "_client", "_later", "_sent", "cairn_locks", "cairn_scope")

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._c = conn
        self._client = psycopg.ClientCursor(conn)
        self._later: list[str] = []
        self._sent = False
        # The task a ``write(task=...)`` is scoped to (None: the store lock, or a read), and the
        # locks taken since its BEGIN (``locks.py``).
        self.cairn_scope: str | None = None
        self.cairn_locks: set[str] = set()

    def begin(self, statements: str, scope: str | None) -> None:
        self._later = [statements]
        self._sent = False
        self.cairn_scope = scope
        self.cairn_locks = set()

    @property
    def began(self) -> bool:
        """Whether anything was sent since :meth:`begin` (else there is nothing to end)."""
        return self._sent or len(self._later) > 1

    def later(self, sql: str, params: Any = None) -> None:
        self._later.append(self._client.mogrify(sql, params) if params else sql)

    def execute(self, sql: str, params: Any = None) -> Any:
        if not self._later:
            return self._c.execute(sql, params)
        self._later.append(self._client.mogrify(sql, params) if params else sql)
        batch, self._later = ";\n".join(self._later), []
        self._sent = True
        cur = self._c.execute(batch)
        while cur.nextset():
            pass
        return cur

    def cursor(self) -> Any:
        self.send()
        return self._c.cursor()

    def send(self) -> None:
        """Send what is held back (before a COMMIT, or a cursor of one's own)."""
        if self._later:
            batch, self._later = ";\n".join(self._later), []
            self._sent = True
            self._c.execute(batch)

    def end(self, statement: str) -> None:
        """COMMIT or ROLLBACK, with what is held back, in one message; nothing at all when the
        transaction never sent a statement (a read that found its answer elsewhere)."""
        if not self.began:
            self._later = []
        else:
            self._later.append(statement)
            self.send()
        self.cairn_scope = None

    def drop(self) -> None:
        self._later = []
        self.cairn_scope = None
