"""Stores: the contract (``contract/``, ``base.py``) and its backends (``sqlite/``, ``memory/``,
``postgres/``); ``factory.py`` picks one."""

from __future__ import annotations

from cairn.store.base import Row, Store, Transaction, Tx, area_names
from cairn.store.factory import MEMORY_URL, open_store

__all__ = [
    "MEMORY_URL",
    "Row",
    "Store",
    "Transaction",
    "Tx",
    "area_names",
    "open_store",
]
