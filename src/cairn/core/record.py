"""Frozen value classes without :mod:`dataclasses`, for what every command builds at start-up.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``), and each class
it decorates runs generated code through ``exec``: with the twenty-odd rows and values a fresh
``cairn status`` needs, that was about a fifth of the command. A record lists its fields once, as
annotations (defaults as values), like a dataclass::

    class Phase(Record):
        name: str
        gated: bool = False

Its class is made with ``__slots__`` from them and an ``__init__`` that sets each in order: a
straight-line template (the end of this module) with its parameters renamed, as fast as a
hand-written one, nothing compiled (``exec`` cost ~0.5 ms a class); ``field(default_factory=…)``
gives each record a new value. ``dataclass_transform`` tells a type checker the same. This base
gives what the frozen dataclass gave: equality and hashing by value, the same ``repr``,
immutability and pickling. :func:`replace` and :func:`asdict` stand in for the ``dataclasses``
functions of the same names (tests/test_records.py checks every record against them). A module
defining records needs ``from __future__ import annotations`` (annotations are read as text).
"""

from __future__ import annotations

from types import CodeType, FunctionType  # (types is on every start path already)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar, dataclass_transform, no_type_check

    R = TypeVar("R", bound="Record")
    T = TypeVar("T")
else:  # importing typing costs ~3 ms of start-up

    def dataclass_transform(**_: object) -> object:
        return lambda cls: cls

    def no_type_check(f: object) -> object:
        return f


# Sets a field of a record in its ``__init__`` (records refuse ``setattr``).
assign = object.__setattr__
_GLOBALS = {"assign": assign}  # all a template looks up


class FrozenRecordError(AttributeError):
    """An attempt to assign to (or delete) a field of a record."""


_FACTORY = ("a field's default_factory",)  # field()'s mark: (_FACTORY, factory)


if TYPE_CHECKING:

    def field(*, default_factory: Callable[[], T]) -> T:
        """A field whose default is a new ``default_factory()`` for each record (given None too:
        ``data: dict[str, Any] = field(default_factory=dict)``)."""
        ...
else:

    def field(*, default_factory):
        return (_FACTORY, default_factory)  # read by _fields


def _init(
    ns: dict[str, Any], names: tuple[str, ...], defaults: tuple[object, ...], factories: Any
) -> Any:
    """An ``__init__`` taking ``names`` in order (the last ``len(defaults)`` optional) and
    setting each: the template of that size, its parameters and placeholders renamed."""
    if len(names) >= len(_CODES):
        raise TypeError(
            f"{ns.get('__qualname__')}: more than {len(_CODES) - 1} fields; add a template below"
        )
    code = _CODES[len(names)].replace(co_varnames=("self", *names), co_consts=(None, *names))
    init = FunctionType(code, _GLOBALS, "__init__", defaults or None)
    init.__qualname__ = ns.get("__qualname__", "") + ".__init__"  # (what an argument error names)
    init.__module__ = ns.get("__module__", "")
    return _made(init, factories) if factories else init


def _made(init: Any, factories: tuple[tuple[str, Callable[[], object]], ...]) -> Any:
    """``init``, then a new value for each factory field left out (or given None)."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        for name, make in factories:
            if getattr(self, name) is None:
                assign(self, name, make())

    __init__.__qualname__ = init.__qualname__
    __init__.__wrapped__ = init  # type: ignore[attr-defined]  # (its signature, for inspect)
    return __init__


class _Fields(type):
    """Makes each record class from its annotations: ``__slots__`` and ``__init__``."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _Fields:
        if bases:  # not Record itself
            notes = ns.get("__annotations__")
            # Every record class on the start path comes through here: the usual one (plain
            # fields, no defaults) the short way, in a few µs; any other, the careful way.
            if (
                notes is not None
                and bases == (Record,)
                and "__slots__" not in ns
                and ns.keys().isdisjoint(notes)
                and "ClassVar" not in "".join(notes.values())
            ):
                names, defaults, factories = tuple(notes), (), ()
            else:
                names, defaults, factories = _fields(name, bases, ns)
            ns["__slots__"] = names
            if "__init__" not in ns:
                ns["__init__"] = _init(ns, names, defaults, factories)
        return type.__new__(mcls, name, bases, ns)


def _fields(name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The fields of a record class with defaults or ``ClassVar`` annotations (which it takes
    out of ``ns``), or why it cannot be one."""
    if "__slots__" in ns:
        raise TypeError(f"record {name}: its fields are its annotations; leave out __slots__")
    for base in bases:
        if getattr(base, "__slots__", ()):
            raise TypeError(f"record {name}: a record cannot add to another record's fields")
    notes: dict[str, str] | None = ns.get("__annotations__")
    if notes is None:
        if "__annotate__" in ns:
            raise TypeError(f"record {name}: its module needs `from __future__ import annotations`")
        notes = {}
    names = tuple([f for f, kind in notes.items() if not kind.startswith("ClassVar")])
    defaults: list[object] = []
    factories = []
    for f in names:
        if f in ns:
            default = ns.pop(f)  # a class attribute would hide the slot
            if type(default) is tuple and len(default) == 2 and default[0] is _FACTORY:
                factories.append((f, default[1]))
                default = None
            defaults.append(default)
        elif defaults:
            raise TypeError(f"record {name}: field {f!r} without a default after one with")
    return names, tuple(defaults), tuple(factories)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record(metaclass=_Fields):
    __slots__: tuple[str, ...] = ()
    # Fields that == and hash() leave out (dataclasses' compare=False) and that repr() leaves out.
    NOT_COMPARED: ClassVar[tuple[str, ...]] = ()
    NOT_SHOWN: ClassVar[tuple[str, ...]] = ()

    def _compared(self) -> tuple[object, ...]:
        skip = self.NOT_COMPARED
        return tuple(getattr(self, f) for f in self.__slots__ if f not in skip)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        skip = self.NOT_SHOWN
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__ if f not in skip)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), tuple(getattr(self, f) for f in self.__slots__))


def fields(obj: Record | type[Record]) -> tuple[str, ...]:
    names: tuple[str, ...] = obj.__slots__
    return names


def replace(obj: R, /, **changes: Any) -> R:
    """A copy of ``obj`` with the named fields changed (``dataclasses.replace``)."""
    values = {f: getattr(obj, f) for f in obj.__slots__}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {sorted(unknown)[0]!r}")
    values.update(changes)
    return type(obj)(**values)


def asdict(obj: Record) -> dict[str, Any]:
    """The fields as a dict, records inside converted too (``dataclasses.asdict``)."""
    return {f: _plain(getattr(obj, f)) for f in obj.__slots__}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return asdict(value)
    if isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    import copy

    return copy.deepcopy(value)


# -- the templates ------------------------------------------------------------------------------
# Straight-line ``__init__`` bodies, one for each number of fields. Never called: ``_init`` takes
# the code of the one with as many parameters as a record has fields and renames its parameters
# and the placeholders ``"\\x00NN"`` (its constants after None) to the fields.
# Regular on purpose; tests/test_records.py checks every size.
@no_type_check
def _templates():
    def init0(self):
        pass

    def init1(self, a0):
        assign(self, "\x0000", a0)

    def init2(self, a0, a1):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)

    def init3(self, a0, a1, a2):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)

    def init4(self, a0, a1, a2, a3):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)

    def init5(self, a0, a1, a2, a3, a4):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)

    def init6(self, a0, a1, a2, a3, a4, a5):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)

    def init7(self, a0, a1, a2, a3, a4, a5, a6):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)

    def init8(self, a0, a1, a2, a3, a4, a5, a6, a7):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)

    def init9(self, a0, a1, a2, a3, a4, a5, a6, a7, a8):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)

    def init10(self, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)
        assign(self, "\x0009", a9)

    def init11(self, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)
        assign(self, "\x0009", a9)
        assign(self, "\x0010", a10)

    def init12(self, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)
        assign(self, "\x0009", a9)
        assign(self, "\x0010", a10)
        assign(self, "\x0011", a11)

    def init13(self, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)
        assign(self, "\x0009", a9)
        assign(self, "\x0010", a10)
        assign(self, "\x0011", a11)
        assign(self, "\x0012", a12)

    def init14(self, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13):
        assign(self, "\x0000", a0)
        assign(self, "\x0001", a1)
        assign(self, "\x0002", a2)
        assign(self, "\x0003", a3)
        assign(self, "\x0004", a4)
        assign(self, "\x0005", a5)
        assign(self, "\x0006", a6)
        assign(self, "\x0007", a7)
        assign(self, "\x0008", a8)
        assign(self, "\x0009", a9)
        assign(self, "\x0010", a10)
        assign(self, "\x0011", a11)
        assign(self, "\x0012", a12)
        assign(self, "\x0013", a13)


# The code of each template, by its number of fields (the only code in ``_templates``' constants).
_CODES = sorted(
    (c for c in _templates.__code__.co_consts if type(c) is CodeType), key=lambda c: c.co_argcount
)
