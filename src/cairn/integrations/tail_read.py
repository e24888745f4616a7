"""Reading the end of a client's transcript as bytes, for the compaction forecast's fast path.

The forecast runs on every tool call, so like :mod:`cairn.integrations.forecast` this imports
nothing and never parses a whole line as JSON: a transcript is newest-last JSON Lines, and the
figure wanted is in one of its last records. Shared by the Claude Code half (forecast.py) and the
Codex half (codex_forecast.py); loaded as a sibling module when the hook runs as a script.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

TAIL_BYTES = 64 * 1024
MAX_SCAN = 4 * 1024 * 1024  # a usage record further back than this: the forecast gives up


def lines_from_end(path: str) -> Iterator[bytes]:
    """The lines of ``path``, newest first, up to ``MAX_SCAN`` bytes from its end; nothing when it
    cannot be opened."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, also when the caller stops early
    except OSError:
        return
    try:
        f.seek(0, 2)
        pos = f.tell()
        carry = b""
        scanned = 0
        while pos > 0 and scanned < MAX_SCAN:
            n = min(TAIL_BYTES if scanned == 0 else 4 * TAIL_BYTES, pos)
            pos -= n
            f.seek(pos)
            chunk = f.read(n) + carry
            scanned += n
            lines = chunk.split(b"\n")
            carry = lines.pop(0) if pos > 0 else b""
            yield from reversed(lines)
    finally:
        f.close()


def field(data: bytes, key: bytes, start: int = 0) -> object:
    """The JSON scalar after the first ``"key":`` in ``data`` (from ``start``): True, False, an
    int, a float or a string; None when absent, ``null``, a string with escapes (let the json
    module read that) or anything else. The one field scanner of the fast paths."""
    i = data.find(b'"' + key + b'"', start)
    if i < 0:
        return None
    j = i + len(key) + 2
    while j < len(data) and data[j] in b" \t\r\n":
        j += 1
    if j >= len(data) or data[j] != 0x3A:  # ':'
        return None
    j += 1
    while j < len(data) and data[j] in b" \t\r\n":
        j += 1
    if data.startswith(b"true", j):
        return True
    if data.startswith(b"false", j):
        return False
    if data[j : j + 1] == b'"':
        end = data.find(b'"', j + 1)
        raw = data[j + 1 : end]
        return None if end < 0 or b"\\" in raw else raw.decode("utf-8", "replace")
    k = j
    while k < len(data) and data[k] in b"0123456789.eE+-":
        k += 1
    number = data[j:k]
    try:
        return int(number) if number.isdigit() else float(number) if number else None
    except ValueError:
        return None


def int_field(data: bytes, key: bytes, start: int = 0) -> int:
    """The whole number after ``"key":`` in ``data`` (from ``start``), or 0."""
    value = field(data, key, start)
    return value if type(value) is int else 0
