"""The store interface: a transaction whose attributes are the contract's areas.

``store.write()`` is durable (committed and synced when the block ends) and takes the write lock at
once, so two writers never deadlock upgrading a read; ``store.light_write()`` is the same without
the sync, for bookkeeping that can be rebuilt; ``store.read()`` is a snapshot. Each yields a
:class:`Transaction`; ``tx.tasks``, ``tx.checkpoints`` ... are typed areas (``store/contract/``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


if TYPE_CHECKING:  # annotations only: a command imports just the contracts it uses
    from cairn.store.contract.checkpoints import CheckpointsArea
    from cairn.store.contract.compactions import CompactionsArea
    from cairn.store.contract.events import EventsArea
    from cairn.store.contract.leases import LeasesArea
    from cairn.store.contract.ledger import LedgerArea
    from cairn.store.contract.meta import MetaArea
    from cairn.store.contract.projections import ProjectionsArea
    from cairn.store.contract.records import RecordsArea
    from cairn.store.contract.recoveries import RecoveriesArea
    from cairn.store.contract.reviews import ReviewsArea
    from cairn.store.contract.runs import RunsArea
    from cairn.store.contract.steps import StepsArea
    from cairn.store.contract.tasks import TasksArea

Row = dict[str, "Any"]


class Transaction:
    """One transaction; its areas are valid only inside the ``with`` block that yielded it.

    The attribute list below is the registry of areas: each backend's ``AREAS`` maps the same
    names to its implementations (the conformance suite checks they match)."""

    tasks: TasksArea
    checkpoints: CheckpointsArea
    steps: StepsArea
    events: EventsArea
    projections: ProjectionsArea
    recoveries: RecoveriesArea
    compactions: CompactionsArea
    runs: RunsArea  # phase runs, worker runs and agent runs
    ledger: LedgerArea  # the budget's contexts and entries
    reviews: ReviewsArea
    leases: LeasesArea  # liveness of running phases and workers, by the store's clock
    meta: MetaArea
    records: RecordsArea  # every record set as plain rows: dump and restore (store/dump.py)

    def __init__(
        self,
        areas: Mapping[str, Any],
        *,
        lazy: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.__dict__.update(areas)
        # Areas in ``lazy`` are built (and their modules imported) on first use, so that a
        # command's start-up pays only for the areas it touches.
        self._lazy = dict(lazy or {})

    def __getattr__(self, name: str) -> Any:
        make = self.__dict__.get("_lazy", {}).get(name)
        if make is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        area = make()
        self.__dict__[name] = area
        return area


def area_names() -> tuple[str, ...]:
    """The areas every backend must provide."""
    return tuple(Transaction.__annotations__)


# The name the modules not yet on the contract use for a transaction.
Tx = Transaction


class Store(Protocol):
    dialect: str

    def write(self, *, task: str | None = None) -> AbstractContextManager[Transaction]:
        """Durable: committed and synced when the block ends; takes the write lock at once.
        ``task``: a promise that the block writes only that task's rows (and appends events), so
        a backend that can may let writers of other tasks run meanwhile (PostgreSQL does)."""
        ...

    def light_write(self, *, rows_only: bool = False) -> AbstractContextManager[Transaction]:
        """Atomic but not synced: for data that can be rebuilt (projection stats).
        ``rows_only``: a promise that the block only updates rows it names by their key
        (projection stats, lease renewals), giving no id and reading nothing to decide what to
        write, so a backend that can may run it beside other writers (PostgreSQL does)."""
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """A consistent snapshot."""
        ...

    # The names before the contract; kept while other modules call them.
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def light_transaction(self) -> AbstractContextManager[Transaction]: ...

    def applied_migrations(self) -> list[str]: ...

    def integrity_check(self) -> str: ...

    def close(self) -> None: ...
