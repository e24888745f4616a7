"""Store metadata: put replaces, delete is idempotent."""

from __future__ import annotations

import pytest
from tests.store_conformance.test_compactions import _add

from cairn.store import Store
from cairn.store.contract.meta import RECORD_SETS


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


def test_holds_says_whether_a_record_set_has_anything(store: Store) -> None:
    """The status asks this before importing a section's module; only the contract's names."""
    with store.read() as tx:
        assert not any(tx.meta.holds(r) for r in RECORD_SETS)
        with pytest.raises(ValueError, match="no record set"):
            tx.meta.holds("tasks; DROP TABLE tasks")
    _add(store, 1, None)
    with store.read() as tx:
        assert tx.meta.holds("compactions")
        assert not tx.meta.holds("reviews")


def test_holding_answers_holds_for_several_sets_at_once(store: Store) -> None:
    """The status's one look-up for all of its sections; the same answers as ``holds``."""
    with store.read() as tx:
        assert tx.meta.holding(RECORD_SETS) == frozenset()
        assert tx.meta.holding(()) == frozenset()
        with pytest.raises(ValueError, match="no record set"):
            tx.meta.holding(("reviews", "tasks; DROP TABLE tasks"))
    _add(store, 1, None)
    with store.read() as tx:
        assert tx.meta.holding(RECORD_SETS) == frozenset({"compactions"})
        assert tx.meta.holding(("reviews", "compactions")) == frozenset({"compactions"})
        assert tx.meta.holding(("reviews",)) == frozenset()
        assert tx.meta.holding(RECORD_SETS) == {r for r in RECORD_SETS if tx.meta.holds(r)}
