"""Small named values of the store itself (counters, pending one-time jobs such as a rename)."""

from __future__ import annotations

from typing import Protocol


class MetaArea(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None:
        """Insert or replace."""
        ...

    def delete(self, key: str) -> None:
        """Nothing happens if the key is absent."""
        ...
