"""Liveness by lease: a running phase or worker run holds a lease in the store, renewed in the
background by the process that runs it, so that its death is seen from any machine sharing the
store (``store/contract/leases.py`` has the store's side).

The rules:

- Time-out ``[store] lease_s`` (default 30 s; ``CAIRN_LEASE_S`` overrides it). A daemon thread
  renews every lease of this process at a third of it, in one transaction.
- A renewal that fails (the server is away, the store is locked) is retried every
  ``min(1 s, lease_s / 10)``. Expiry is judged by the store's clock and the expiry instant is stored,
  so a server that restarts keeps it: an outage shorter than two thirds of the time-out can never
  lose a lease, and a longer one only if another machine resumed the run meanwhile (an expired
  lease nobody took is renewed back).
- ``cairn agent run`` holds ``agent:<task>`` the same way: a second run of the task is refused
  while the lease is live, on any machine; one whose lease expired is recorded as crashed and
  replaced.
- A run is **interrupted** when its lease expired, or, on the host that runs it, when its process
  is gone (the fast path: no waiting for the time-out). A run with no lease (recorded before
  leases) is judged by the pid check alone, as before.
- The host recorded is ``CAIRN_HOST`` or the machine's name: machines that share a name (cloned
  containers) must set ``CAIRN_HOST``, since the pid fast path trusts it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.core.errors import UsageError

if TYPE_CHECKING:
    from cairn.core.config import Config
    from cairn.store import Store
    from cairn.store.contract.leases import LeaseRow

DEFAULT_LEASE_S = 30.0
MIN_LEASE_S = 0.3


def host_name() -> str:
    """The name recorded for this machine (``CAIRN_HOST`` or the node name)."""
    return os.environ.get("CAIRN_HOST") or os.uname().nodename


def lease_s(config: Config) -> float:
    raw: object = os.environ.get("CAIRN_LEASE_S") or config.section("store").get("lease_s")
    if raw is None or raw == "":
        return DEFAULT_LEASE_S
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = -1.0
    if not value >= MIN_LEASE_S:
        raise UsageError(
            f"[store] lease_s = {raw!r} must be a number of seconds >= {MIN_LEASE_S} "
            "(a run is seen as interrupted this long after its process stops renewing)"
        )
    return value


def phase_key(task_id: str, phase: str) -> str:
    return f"phase:{task_id}/{phase}"


def phase_holder(run_id: int) -> str:
    return f"phase-run:{run_id}"


def worker_key(task_id: str, name: str) -> str:
    return f"worker:{task_id}/{name}"


def worker_holder(run_id: str) -> str:
    return f"worker-run:{run_id}"


def agent_key(task_id: str) -> str:
    return f"agent:{task_id}"  # one agent run per task at a time


def agent_holder(run_id: str) -> str:
    return f"agent-run:{run_id}"


def agent_liveness(lease: LeaseRow | None, run_id: str, pid: int | None) -> Liveness:
    """The liveness of a running agent run, given its task's agent lease (a run recorded before
    agent runs took leases has none: its pid is checked, on this host, as before)."""
    return judge(lease, agent_holder(run_id), pid=pid, host=host_name())


def pid_gone(pid: int | None, host: str) -> bool:
    """Whether the process is certainly gone (only decidable on its own host)."""
    if not pid or host != host_name() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a zombie has exited too
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


@dataclass(frozen=True, slots=True)
class Liveness:
    """What a reader can say about a running run."""

    alive: bool
    reason: str  # "lease live" | "lease expired" | "process gone" | "no lease"
    host: str
    pid: int | None
    expires_at: str | None
    remaining_s: float | None


def judge(lease: LeaseRow | None, holder: str, *, pid: int | None, host: str) -> Liveness:
    """The liveness of the run ``holder`` (recorded with ``pid`` on ``host``) given the lease of
    its key as read from the store."""
    if lease is not None and lease.holder == holder:
        if lease.expired:
            return Liveness(
                False, "lease expired", lease.host, lease.pid, lease.expires_at, lease.remaining_s
            )
        gone = pid_gone(lease.pid, lease.host)
        return Liveness(
            not gone,
            "process gone" if gone else "lease live",
            lease.host,
            lease.pid,
            lease.expires_at,
            lease.remaining_s,
        )
    if lease is not None:  # another run holds the key: this one was superseded
        return Liveness(False, "lease taken over", host, pid, None, None)
    gone = pid_gone(pid, host)
    return Liveness(not gone, "process gone" if gone else "no lease", host, pid, None, None)


class Keeper:
    """Renews this process's leases on one store from a daemon thread."""

    def __init__(self, store: Store, ttl_s: float) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.pid = os.getpid()
        self.held: dict[str, str] = {}  # key -> holder
        self.lost: set[tuple[str, str]] = set()
        self.failures = 0  # renewals that failed in a row (the store away)
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, key: str, holder: str) -> None:
        with self._wake:
            self.held[key] = holder
            self.lost.discard((key, holder))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="cairn-lease-keeper", daemon=True
                )
                self._thread.start()

    def drop(self, key: str, holder: str) -> None:
        with self._wake:
            if self.held.get(key) == holder:
                del self.held[key]

    def holds(self, key: str, holder: str) -> bool:
        with self._wake:
            return self.held.get(key) == holder

    def _loop(self) -> None:
        retry = min(1.0, self.ttl_s / 10)
        wait = self.ttl_s / 3
        while True:
            with self._wake:
                self._wake.wait(wait)
                items = list(self.held.items())
            if not items:
                wait = self.ttl_s / 3
                continue
            try:
                with self.store.light_write(rows_only=True) as tx:
                    kept = set(tx.leases.renew(items, self.ttl_s))
            except Exception:  # the store is away: try again soon, the lease still runs
                self.failures += 1
                wait = retry
                continue
            self.failures = 0
            wait = self.ttl_s / 3
            with self._wake:
                for key, holder in items:
                    if key not in kept and self.held.get(key) == holder:
                        del self.held[key]  # taken over by another machine: stop renewing
                        self.lost.add((key, holder))


_KEEPERS: weakref.WeakKeyDictionary[Store, Keeper] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def keeper(store: Store, config: Config) -> Keeper:
    """This process's keeper of leases on ``store`` (a forked child gets its own)."""
    with _GUARD:
        found = _KEEPERS.get(store)
        if found is None or found.pid != os.getpid():
            found = _KEEPERS[store] = Keeper(store, lease_s(config))
        return found


def release_all(store: Store) -> None:
    """Release every lease this process holds on ``store`` (the end of a run, also a failed one)."""
    with _GUARD:
        found = _KEEPERS.get(store)
    if found is None or found.pid != os.getpid():
        return
    with found._wake:
        items = list(found.held.items())
        found.held.clear()
    if not items:
        return
    with contextlib.suppress(Exception), store.light_write() as tx:
        for key, holder in items:
            tx.leases.release(key, holder)
