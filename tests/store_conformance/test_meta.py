"""Store metadata: put replaces, delete is idempotent."""

from __future__ import annotations

from cairn.store import Store


def test_put_get_delete(store: Store) -> None:
    with store.write() as tx:
        assert tx.meta.get("k") is None
        tx.meta.put("k", "1")
        tx.meta.put("k", "2")
    with store.read() as tx:
        assert tx.meta.get("k") == "2"
    with store.write() as tx:
        tx.meta.delete("k")
        tx.meta.delete("k")
    with store.read() as tx:
        assert tx.meta.get("k") is None
