"""Frozen value classes without :mod:`dataclasses`, for what every command builds at start-up.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``), and each class
it decorates runs generated code through ``exec``: with the twenty-odd rows and values a fresh
``cairn status`` needs, that was about a fifth of the command. A record is a slotted class with a
hand-written ``__init__`` that sets each field with :func:`assign` (as fast as the dataclass's
generated one); this base gives it what the frozen dataclass gave: equality and hashing by value, the same ``repr``,
immutability and pickling. :func:`replace` and :func:`asdict` stand in for the ``dataclasses``
functions of the same names (tests/test_records.py checks every record against them).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    R = TypeVar("R", bound="Record")

# Sets a field of a record in its ``__init__`` (records refuse ``setattr``).
assign = object.__setattr__


class FrozenRecordError(AttributeError):
    """An attempt to assign to (or delete) a field of a record."""


class Record:
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
