"""The change token on PostgreSQL (``tx.meta.change_token()``): the meta area with it."""

from __future__ import annotations

from cairn.store.postgres.meta import PgMeta


class PgMetaChanges(PgMeta):
    __slots__ = ()

    def change_token(self) -> str:
        r = self._c.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM events) AS e, (SELECT count(*) FROM leases "
            "WHERE expires_at <= extract(epoch from clock_timestamp())) AS x"
        ).fetchone()
        return f"{r['e']}.{r['x']}"
