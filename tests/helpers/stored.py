"""What a store holds, read through the contract's ``records`` area: any record set as plain dict
rows, in the order they were made, on every backend that keeps records (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any


def records(tx: Any, name: str) -> list[dict[str, Any]]:
    """Every record of the set ``name`` (a table on a SQL backend) as ``{field: value}``."""
    fields = tx.records.fields(name)
    return [dict(zip(fields, row, strict=True)) for row in tx.records.rows(name)]
