"""The storage contract, one file per area: typed rows (frozen dataclasses) and the operations a
backend offers on them. Domain code speaks only this; SQL (or any other query language) stays in
the backends under ``store/sqlite/`` and ``store/memory/``.

Adding an area (say ``reviews``): ``contract/reviews.py`` (rows + a Protocol), one attribute line on
:class:`cairn.store.base.Transaction`, ``sqlite/reviews.py`` and ``memory/reviews.py`` (each one line
in that backend's ``AREAS``), and ``tests/store_conformance/test_reviews.py``.
"""

from __future__ import annotations

from cairn.core.errors import StoreError


class DuplicateKey(StoreError):
    """A create named a key that exists already (the domain checks first; this is the backstop)."""


class MissingRow(StoreError):
    """An update named a row that does not exist (the domain checks first; this is the backstop)."""


__all__ = ["DuplicateKey", "MissingRow"]
