"""The records (cairn.core.record) behave as the frozen dataclasses they replaced: each class
against a dataclass made from the same fields, for construction, ==, hash, repr, replace, asdict,
pickling and immutability."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import pickle
from typing import Any, ClassVar

import pytest

from cairn.core import record
from cairn.core.model import Checkpoint, Phase, Task
from cairn.core.record import Record

MODULES = (
    "cairn.core.model",
    "cairn.core.config",
    "cairn.core.rules",
    "cairn.core.tokens",
    "cairn.domain.notices",
    "cairn.projection.watch",
    "cairn.recovery.brief",
    "cairn.store.contract.checkpoints",
    "cairn.store.contract.events",
    "cairn.store.contract.projections",
    "cairn.store.contract.recoveries",
    "cairn.store.contract.steps",
    "cairn.store.contract.tasks",
)


def _records() -> list[type[Record]]:
    for name in MODULES:
        importlib.import_module(name)
    found: list[type[Record]] = []
    todo = list(Record.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("cairn.")]


RECORDS = _records()


def _twin(cls: type[Record]) -> type[Any]:
    """The frozen dataclass the record stands for: the same fields, defaults and options."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    specs: list[Any] = []
    for p in params:
        opts: dict[str, Any] = {
            "repr": p.name not in cls.NOT_SHOWN,
            "compare": p.name not in cls.NOT_COMPARED,
        }
        if p.default is not inspect.Parameter.empty:
            opts["default"] = p.default
        specs.append((p.name, Any, dataclasses.field(**opts)))
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=True)


def _values(cls: type[Record], salt: str) -> dict[str, Any]:
    return {f: f"{f}-{salt}" for f in record.fields(cls)}


def test_the_records_are_found() -> None:
    names = {c.__name__ for c in RECORDS}
    assert {"Task", "Phase", "Checkpoint", "TaskRow", "CheckpointRow", "Config", "Brief"} <= names


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_a_record_is_its_dataclass(cls: type[Record]) -> None:
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert tuple(params) == record.fields(cls), "__init__ takes the fields in __slots__ order"
    twin = _twin(cls)
    a, b = _values(cls, "a"), _values(cls, "b")
    r, t = cls(**a), twin(**a)
    # every argument lands in its own field
    assert {f: getattr(r, f) for f in record.fields(cls)} == a
    assert repr(r) == repr(t)
    assert record.asdict(r) == dataclasses.asdict(t)
    assert list(record.asdict(r)) == list(dataclasses.asdict(t))
    assert r == cls(**a) and hash(r) == hash(cls(**a))
    for f in record.fields(cls):
        changed = record.replace(r, **{f: b[f]})
        assert getattr(changed, f) == b[f]
        assert (changed == r) == (dataclasses.replace(t, **{f: b[f]}) == t), f
        if f in cls.NOT_COMPARED:
            assert hash(changed) == hash(r)
    assert r != object() and (r == object()) is False
    assert pickle.loads(pickle.dumps(r)) == r
    assert copy.deepcopy(r) == r and copy.copy(r) == r
    with pytest.raises(AttributeError, match="cannot assign to field"):
        r.x = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="cannot delete field"):
        del r.x  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        record.replace(r, not_a_field=1)


def test_defaults_and_nested_asdict() -> None:
    phase = Phase("plan", 1, "active")
    assert (phase.gated, phase.started_at, phase.error) == (False, None, None)
    task = Task("t", "T", "c", "u", None, (phase,))
    d = record.asdict(task)
    assert d["phases"] == (
        {
            "name": "plan",
            "position": 1,
            "state": "active",
            "gated": False,
            "started_at": None,
            "finished_at": None,
            "error": None,
        },
    )
    assert task.to_json()["current_phase"] == "plan"
    cp = Checkpoint("t", "plan", 1, "h", 3, None, "write", ("a",), "c", "p", "x")
    assert "content" not in repr(cp)
    assert record.replace(cp, unchanged=True) == cp  # unchanged is not compared
    assert cp.to_json(with_content=False) == {
        "task_id": "t",
        "kind": "plan",
        "version": 1,
        "hash": "h",
        "size": 3,
        "phase": None,
        "source": "write",
        "files": ["a"],
        "created_at": "c",
        "path": "p",
    }


def _made(n: int, defaults: int = 0) -> type[Record]:
    names = [f"f{i}" for i in range(n)]
    ns: dict[str, Any] = {"__annotations__": dict.fromkeys(names, "int"), "__qualname__": f"R{n}"}
    ns.update({f: -i for i, f in enumerate(names) if i >= n - defaults})
    made: type[Record] = type(Record)(f"R{n}", (Record,), ns)
    return made


@pytest.mark.parametrize("n", range(len(record._CODES)))
def test_every_size_of_record_sets_each_field_from_its_own_argument(n: int) -> None:
    cls = _made(n)
    assert record.fields(cls) == tuple(f"f{i}" for i in range(n))
    r = cls(*range(100, 100 + n))
    assert [getattr(r, f) for f in record.fields(cls)] == list(range(100, 100 + n))
    assert cls(**{f"f{i}": i for i in range(n)}) == cls(*range(n))
    assert list(inspect.signature(cls.__init__).parameters) == ["self", *record.fields(cls)]
    if n:
        with pytest.raises(TypeError, match=rf"R{n}.__init__\(\) missing 1 required"):
            cls(*range(n - 1))
        half = _made(n, defaults=n // 2 + 1)
        given = n - (n // 2 + 1)
        assert [getattr(half(*range(given)), f) for f in record.fields(half)] == [
            *range(given),
            *(-i for i in range(given, n)),
        ]
    with pytest.raises(TypeError):
        cls(*range(n + 1))


def test_a_record_is_made_from_its_annotations_or_says_why_not() -> None:
    with pytest.raises(TypeError, match="more than 14 fields"):
        _made(len(record._CODES))
    with pytest.raises(TypeError, match="without a default after one with"):

        class Order(Record):
            a: int = 1
            b: int

    with pytest.raises(TypeError, match="leave out __slots__"):

        class Slotted(Record):
            __slots__ = ("a",)
            a: int

    class Base(Record):
        a: int

    with pytest.raises(TypeError, match="cannot add to another record's fields"):

        class More(Base):
            b: int

    class Counted(Record):
        NOT_SHOWN: ClassVar[tuple[str, ...]] = ("b",)
        a: int
        b: dict[str, int] = record.field(default_factory=dict)

    one, two = Counted(1), Counted(1)
    assert record.fields(Counted) == ("a", "b") and one.b == {} and one.b is not two.b
    assert Counted(1, None).b == {}  # as the hand-written records had it
    assert Counted(1, {"x": 1}).b == {"x": 1}
    assert "b=" not in repr(one)
    assert list(inspect.signature(Counted.__init__).parameters) == ["self", "a", "b"]
