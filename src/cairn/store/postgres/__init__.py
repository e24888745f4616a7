"""The PostgreSQL store (optional extra ``cairn-agent[postgres]``): a store shared by machines.

Imported only when a store URL names PostgreSQL, so the SQLite path never loads psycopg."""

from __future__ import annotations

from cairn.store.postgres.connection import PostgresStore

__all__ = ["PostgresStore"]
