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


def int_field(data: bytes, key: bytes, start: int = 0) -> int:
    """The number after ``"key":`` in ``data`` (from ``start``), or 0."""
    i = data.find(b'"' + key + b'"', start)
    if i < 0:
        return 0
    j = i + len(key) + 2
    while j < len(data) and data[j] in b" \t\r\n:":
        j += 1
    k = j
    while k < len(data) and 0x30 <= data[k] <= 0x39:
        k += 1
    return int(data[j:k]) if k > j else 0
