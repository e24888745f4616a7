"""The store interface: a transaction whose attributes are the contract's areas.

``store.write()`` is durable (committed and synced when the block ends) and takes the write lock at
once, so two writers never deadlock upgrading a read; ``store.light_write()`` is the same without
the sync, for bookkeeping that can be rebuilt; ``store.read()`` is a snapshot. Each yields a
:class:`Transaction`; ``tx.tasks``, ``tx.checkpoints`` ... are typed areas (``store/contract/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from cairn.core.errors import StoreError

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

Row = dict[str, Any]
Params = Sequence[Any]


class RawSQL(Protocol):
    """TEMPORARY escape hatch: SQL passed through to a SQL backend, for the modules whose tables
    have no area yet (reviews, workers, runs, budget, flow). New code uses areas;
    each module moves off this when its area lands, and then this goes."""

    def execute(self, sql: str, params: Params = ()) -> list[Row]: ...

    def one(self, sql: str, params: Params = ()) -> Row | None: ...

    def scalar(self, sql: str, params: Params = ()) -> Any: ...

    def insert(self, sql: str, params: Params = ()) -> int: ...

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]: ...


class _NoSQL:
    """The raw hatch of a backend that has no SQL (the memory store)."""

    def _refuse(self, *_: object) -> Any:
        raise StoreError(
            "this store has no SQL; the calling module still uses the temporary raw SQL hatch "
            "and must move to a store area"
        )

    execute = one = scalar = insert = iterate = _refuse


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
    sql: RawSQL  # TEMPORARY, see RawSQL

    def __init__(
        self,
        areas: Mapping[str, Any],
        sql: RawSQL | None = None,
        *,
        lazy: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.__dict__.update(areas)
        # Areas in ``lazy`` are built (and their modules imported) on first use, so that a
        # command's start-up pays only for the areas it touches.
        self._lazy = dict(lazy or {})
        self.sql = sql if sql is not None else _NoSQL()

    def __getattr__(self, name: str) -> Any:
        make = self.__dict__.get("_lazy", {}).get(name)
        if make is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        area = make()
        self.__dict__[name] = area
        return area

    # TEMPORARY: the raw methods on the transaction itself, as before the contract, so that the
    # modules not yet on areas keep working unchanged. Same deadline as RawSQL.
    def execute(self, sql: str, params: Params = ()) -> list[Row]:
        return self.sql.execute(sql, params)

    def one(self, sql: str, params: Params = ()) -> Row | None:
        return self.sql.one(sql, params)

    def scalar(self, sql: str, params: Params = ()) -> Any:
        return self.sql.scalar(sql, params)

    def insert(self, sql: str, params: Params = ()) -> int:
        return self.sql.insert(sql, params)

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]:
        return self.sql.iterate(sql, params)


def area_names() -> tuple[str, ...]:
    """The areas every backend must provide."""
    return tuple(n for n in Transaction.__annotations__ if n != "sql")


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
