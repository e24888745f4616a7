"""The small cut vocabulary's count (``tokens.QUICK_RANKS``) in plain Python, for the few texts a
fresh command counts: loading the tokenizer library and building its tables cost a fresh
``cairn recover`` ~4.5 ms, three times what counting its brief here takes.

:func:`count` gives the library's number exactly, or None when the text holds a character outside
the alphabet spelled out below (ASCII, the brief's icons and common typographic punctuation),
whose classes this module does not know; then the library counts. ``tests/test_quick_count.py``
compares the two on generated and real texts.

The pre-tokenizer is o200k's pattern with its Unicode classes written out over that alphabet:
letters are A-Z and a-z, digits 0-9, white space the six ASCII ones, U+FE0F (the emoji variation
selector) the one mark, and every other character punctuation. Each piece is then merged by the
cut vocabulary's ranks, lowest rank first and leftmost among equals, as byte-pair encoding does.
"""

from __future__ import annotations

import marshal
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Non-ASCII characters whose class is certain and stable: symbols and punctuation (none is a
# letter, digit or white space), and the variation selector of the pending icon, a mark. The scan
# sees each as a Latin-1 stand-in of its class (a pattern over Latin-1 compiles in half the time),
# and the piece is then taken from the text itself.
_SYMBOLS = "✅⏳⏸❌⛔—–·…→←↑↓“”‘’•×≤≥°§©"
_MARK = "\ufe0f"
_KNOWN = frozenset(_SYMBOLS + _MARK)
_STAND_INS = {ord(c): "\x81" for c in _SYMBOLS} | {ord(_MARK): "\x80"}

_WS = " \t\n\x0b\x0c\r"
_UPPER = "A-Z\x80"  # \p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M} over the alphabet
_LOWER = "a-z\x80"  # \p{Ll}\p{Lm}\p{Lo}\p{M}
_SUFFIX = "(?:'(?:[sStTmMdD]|[rR][eE]|[vV][eE]|[lL][lL]))?"  # (?i:...) compiles slower
_PATTERN = (
    f"[^\\r\\nA-Za-z0-9]?[{_UPPER}]*[{_LOWER}]+{_SUFFIX}"
    f"|[^\\r\\nA-Za-z0-9]?[{_UPPER}]+[{_LOWER}]*{_SUFFIX}"
    "|[0-9]{1,3}"
    f"| ?[^{_WS}A-Za-z0-9]+[\\r\\n/]*"
    f"|[{_WS}]*[\\r\\n]+"
    f"|[{_WS}]+(?![^{_WS}])"
    f"|[{_WS}]+"
)

# Counting here is for short texts; a process that has counted this many characters (a long
# brief measured over and over while it is cut to fit) hands the rest to the library.
BUDGET_CHARS = 24_000
_spent = 0


class _Counter:
    __slots__ = ("finditer", "pieces", "ranks")

    def __init__(self, ranks: dict[bytes, int]) -> None:
        self.ranks = ranks
        self.finditer: Callable[[str], Iterator[re.Match[str]]] = re.compile(_PATTERN).finditer
        self.pieces: dict[str, int] = {}

    def piece(self, text: str) -> int:
        word = text.encode("utf-8")
        get = self.ranks.get
        if get(word) is not None:
            return 1
        parts = [word[i : i + 1] for i in range(len(word))]
        while len(parts) > 1:
            best, at = -1, -1
            for i in range(len(parts) - 1):
                rank = get(parts[i] + parts[i + 1])
                if rank is not None and (best < 0 or rank < best):
                    best, at = rank, i
            if at < 0:
                break
            parts[at : at + 2] = [parts[at] + parts[at + 1]]
        return len(parts)

    def count(self, text: str) -> int:
        seen = self.pieces
        total = 0
        if text.isascii():
            pieces = [m.group() for m in self.finditer(text)]
        else:
            spans = [m.span() for m in self.finditer(text.translate(_STAND_INS))]
            pieces = [text[a:b] for a, b in spans]
        for piece in pieces:
            n = seen.get(piece)
            if n is None:
                n = seen[piece] = self.piece(piece)
            total += n
        return total


_COUNTERS: dict[str, _Counter] = {}
_MISSING: set[str] = set()


def count(text: str, ranks_file: str) -> int | None:
    """The count of ``text`` by the cut vocabulary whose ranks :func:`save` wrote to
    ``ranks_file``, or None when this module cannot give it (a character it does not know, no
    ranks yet, or its budget spent)."""
    global _spent
    if not text.isascii() and not _KNOWN.issuperset(c for c in set(text) if c > "\x7f"):
        return None
    if _spent + len(text) > BUDGET_CHARS or ranks_file in _MISSING:
        return None
    counter = _COUNTERS.get(ranks_file)
    if counter is None:
        ranks = _load(ranks_file)
        if ranks is None:
            _MISSING.add(ranks_file)
            return None
        counter = _COUNTERS[ranks_file] = _Counter(ranks)
    _spent += len(text)
    return counter.count(text)


def _load(ranks_file: str) -> dict[bytes, int] | None:
    try:
        with open(ranks_file, "rb") as f:
            ranks = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if (
        isinstance(ranks, dict)
        and all(type(k) is bytes and type(v) is int for k, v in ranks.items())
        and all(bytes((b,)) in ranks for b in range(256))
    ):
        return ranks
    return None  # not what save() wrote: the library counts, and saves them again


def save(vocab_file: str, ranks_file: str) -> None:
    """Keep the ranks of the cut vocabulary in ``vocab_file`` as a marshalled dict (it loads in a
    tenth of the time reading the vocabulary's records in Python takes), unless a usable copy is
    there: done by the first process that loads the cut through the library."""
    if _load(ranks_file) is not None:
        return
    try:
        with open(vocab_file, "rb") as f:
            ranks = _parse(f.read())
    except OSError:
        return
    if ranks is None:
        return
    tmp = f"{ranks_file}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(marshal.dumps(ranks))
        os.replace(tmp, ranks_file)
    except OSError:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _parse(raw: bytes) -> dict[bytes, int] | None:
    """Records as ``tokens._build_bound_vocab`` writes them: a u32 count, then per entry a u16
    length, the token's bytes and a u32 rank (little-endian)."""
    if len(raw) < 4:
        return None
    n = int.from_bytes(raw[:4], "little")
    ranks: dict[bytes, int] = {}
    off = 4
    for _ in range(n):
        end = off + 2 + int.from_bytes(raw[off : off + 2], "little")
        if end + 4 > len(raw):
            return None
        ranks[raw[off + 2 : end]] = int.from_bytes(raw[end : end + 4], "little")
        off = end + 4
    if off != len(raw) or not all(bytes((b,)) in ranks for b in range(256)):
        return None
    return ranks
