"""The standard library's parts a fresh cairn process imports without needing them.

``pathlib`` imports ``urllib.parse`` (which imports ``ipaddress``) for one function, the quoting
in ``Path.as_uri()``: ~2.4 ms of every ``cairn status``, ``recover`` and hook, which never make a
``file:`` URI. :func:`import_pathlib` imports pathlib with a stand-in for ``urllib.parse`` whose
``quote_from_bytes`` loads the real module on its first call; the stand-in is gone from
``sys.modules`` once pathlib is in, so that any later ``import urllib.parse`` gets the real one.
The entry points (``cairn.cli``, ``cairn.hooks``) call it before anything imports pathlib; where
pathlib or urllib.parse is already loaded it does nothing.

:func:`import_module` is ``importlib.import_module`` for an absolute name without importing the
``importlib`` package, whose set-up (with ``warnings``) was ~0.9 ms of a command that only looks
a module up by name.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

_NAME = "urllib.parse"


def _real(attr: str) -> Any:
    """``urllib.parse.<attr>`` from the real module (imported now if need be)."""
    if attr.startswith("__"):  # the import system asking the stand-in what it is (``__path__``)
        raise AttributeError(attr)
    if getattr(sys.modules.get(_NAME), "_cairn_stand_in", False):
        del sys.modules[_NAME]
    import urllib.parse

    return getattr(urllib.parse, attr)


def _quote_from_bytes(bs: bytes, safe: str = "/") -> str:
    return str(_real("quote_from_bytes")(bs, safe))


def import_pathlib() -> None:
    """Import pathlib, leaving urllib.parse (and ipaddress) for the first ``as_uri()``."""
    if "pathlib" in sys.modules or _NAME in sys.modules:
        return
    stand_in = type(sys)(_NAME)
    stand_in._cairn_stand_in = True  # type: ignore[attr-defined]
    stand_in.quote_from_bytes = _quote_from_bytes  # type: ignore[attr-defined]
    stand_in.__getattr__ = _real  # type: ignore[method-assign]  # other names: the real ones
    sys.modules[_NAME] = stand_in
    try:
        import pathlib  # noqa: F401
    finally:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]


def import_module(name: str) -> ModuleType:
    """The module of the absolute dotted ``name``, imported if need be."""
    module = sys.modules.get(name)
    if module is None:
        __import__(name)
        module = sys.modules[name]
    return module
