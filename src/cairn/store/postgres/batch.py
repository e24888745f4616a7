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

A transaction whose one statement is the whole of it (a checkpoint write: one server-side call
that takes its own locks) is sent on its own instead, with :meth:`TxConn.whole`: the server runs
it as a transaction of its own and commits it, one round trip in all.
"""

from __future__ import annotations

from typing import Any

import psycopg

from cairn.core.errors import StoreError


class TxConn:
    __slots__ = (
        "_c",
        "_client",
        "_done",
        "_later",
        "_sent",
        "cairn_locks",
        "cairn_scope",
        "commit_sent",
    )

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._c = conn
        self._client = psycopg.ClientCursor(conn)
        self._later: list[str] = []
        self._sent = False
        self._done = False
        # Whether the statement that failed went with its commit and the connection broke before
        # the answer came: then nobody knows whether the server committed it.
        self.commit_sent = False
        # The task a ``write(task=...)`` is scoped to (None: the store lock, or a read), and the
        # locks taken since its BEGIN (``locks.py``).
        self.cairn_scope: str | None = None
        self.cairn_locks: set[str] = set()

    def begin(self, statements: str, scope: str | None) -> None:
        self._later = [statements]
        self._sent = False
        self._done = False
        self.commit_sent = False
        self.cairn_scope = scope
        self.cairn_locks = set()

    @property
    def began(self) -> bool:
        """Whether anything was sent since :meth:`begin` (else there is nothing to end)."""
        return self._sent or len(self._later) > 1

    @property
    def alone(self) -> bool:
        """Whether nothing but the BEGIN (and its locks) is waiting and nothing was sent."""
        return not self._sent and len(self._later) == 1 and not self._done

    def whole(self, sql: str, params: Any) -> Any:
        """Run ``sql`` as the whole transaction, in place of the BEGIN and locks held back (the
        statement takes its own): the server commits it; nothing more may follow. Prepared
        at once: it is the write path's one statement. Returns its cursor."""
        assert self.alone
        self._later = []
        self._done = True
        try:
            return self._c.execute(sql, params, prepare=True)
        except psycopg.Error:
            # An answer came (an error): the server rolled the transaction back. None came (the
            # connection broke): it may have committed before it went away.
            self.commit_sent = self._c.broken
            raise

    def _check(self) -> None:
        if self._done:
            raise StoreError(
                "a store transaction was used after its last statement committed it; "
                "this is a bug in cairn: report it"
            )

    def later(self, sql: str, params: Any = None) -> None:
        self._check()
        self._later.append(self._client.mogrify(sql, params) if params else sql)

    def execute(self, sql: str, params: Any = None) -> Any:
        self._check()
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
        self._check()
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
