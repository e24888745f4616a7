"""Leases: taken when free or expired, never from a live holder unless stolen, renewed and released
only by their holder, timed by the store's clock; and the change token a poller asks for."""

from __future__ import annotations

import time

from cairn.store import Store
from cairn.store.contract.leases import LeaseRow

from .conftest import TS


def _take(
    store: Store, key: str, holder: str, ttl: float = 30.0, *, steal: bool = False
) -> LeaseRow | None:
    with store.write() as tx:
        return tx.leases.acquire(key, holder, host="h1", pid=11, ttl_s=ttl, steal=steal)


def test_acquire_a_free_key_and_read_it_back(store: Store) -> None:
    got = _take(store, "phase:T/a", "run:1")
    assert got is not None
    with store.read() as tx:
        row = tx.leases.get("phase:T/a")
        assert tx.leases.get("phase:T/b") is None
    assert row is not None
    assert (row.holder, row.host, row.pid, row.ttl_s) == ("run:1", "h1", 11, 30.0)
    assert not row.expired and 25 < row.remaining_s <= 30
    assert row.acquired_at <= row.renewed_at < row.expires_at
    assert row.expires_at.endswith("Z")


def test_a_live_lease_is_not_taken_by_another_holder_unless_stolen(store: Store) -> None:
    _take(store, "k", "a")
    assert _take(store, "k", "b") is None
    with store.read() as tx:
        row = tx.leases.get("k")
        assert row is not None and row.holder == "a"
    assert _take(store, "k", "a") is not None  # its own holder may take it again
    stolen = _take(store, "k", "b", steal=True)
    assert stolen is not None and stolen.holder == "b"


def test_an_expired_lease_is_taken_by_another_holder(store: Store) -> None:
    _take(store, "k", "a", ttl=0.05)
    time.sleep(0.1)
    with store.read() as tx:
        row = tx.leases.get("k")
        assert row is not None and row.expired and row.remaining_s <= 0
    got = _take(store, "k", "b")
    assert got is not None and got.holder == "b"


def test_renew_extends_only_what_the_holder_still_has(store: Store) -> None:
    _take(store, "k1", "a", ttl=0.05)
    _take(store, "k2", "a", ttl=0.05)
    _take(store, "k3", "a")
    _take(store, "k3", "c", steal=True)  # taken over: lost to "a"
    time.sleep(0.1)
    with store.write() as tx:
        # k1 expired but nobody took it: renewing brings it back; k2 belongs to nobody else either
        kept = tx.leases.renew([("k1", "a"), ("k2", "b"), ("k3", "a"), ("nope", "a")], 30.0)
    assert kept == ["k1"]
    with store.read() as tx:
        k1, k2 = tx.leases.get("k1"), tx.leases.get("k2")
        assert k1 is not None and not k1.expired and k1.ttl_s == 30.0
        assert k2 is not None and k2.expired and k2.holder == "a"


def test_release_only_by_the_holder(store: Store) -> None:
    _take(store, "k", "a")
    with store.write() as tx:
        assert not tx.leases.release("k", "b")
        assert tx.leases.get("k") is not None
        assert tx.leases.release("k", "a")
        assert not tx.leases.release("k", "a")
    with store.read() as tx:
        assert tx.leases.get("k") is None
        assert tx.leases.all() == []


def test_many_and_all(store: Store) -> None:
    for key in ("b", "a", "c"):
        _take(store, key, f"h-{key}")
    with store.read() as tx:
        assert [r.key for r in tx.leases.all()] == ["a", "b", "c"]
        got = tx.leases.many(["c", "a", "zz", "a"])
    assert sorted(got) == ["a", "c"] and got["c"].holder == "h-c"


def test_a_lease_is_seen_from_another_connection(connect) -> None:  # type: ignore[no-untyped-def]
    a, b = connect(), connect()
    with a.write() as tx:
        tx.leases.acquire("k", "a", host="m1", pid=5, ttl_s=30)
    with b.write() as tx:
        assert tx.leases.acquire("k", "b", host="m2", pid=6, ttl_s=30) is None
        row = tx.leases.get("k")
        assert row is not None and row.host == "m1"


def test_change_token_changes_with_each_event_and_with_an_expiry(store: Store) -> None:
    with store.read() as tx:
        t0 = tx.meta.change_token()
        assert tx.meta.change_token() == t0  # stable while nothing happens
    with store.write() as tx:
        tx.events.append(None, "x", TS, {})
    with store.read() as tx:
        t1 = tx.meta.change_token()
    assert t1 != t0
    _take(store, "k", "a", ttl=0.05)
    with store.read() as tx:
        assert tx.meta.change_token() == t1  # a live lease (and its renewals) are no change
    time.sleep(0.1)
    with store.read() as tx:
        t2 = tx.meta.change_token()
    assert t2 != t1  # the lease ran out: the status now shows its run as interrupted
    with store.write() as tx:
        tx.leases.renew([("k", "a")], 30)
    with store.read() as tx:
        assert tx.meta.change_token() != t2
