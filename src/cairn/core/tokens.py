"""Token counting, offline.

Exact counts use the BPE vocabularies that the ``quicktok-v1`` package ships (cl100k, o200k), so
nothing is downloaded at run time. Loading a vocabulary takes 0.15-0.4 s, so start-up-critical paths
(``cairn recover`` from a hook) use :func:`upper_bound`, a cheap estimate that stays at or above the
exact count on ordinary text (prose, code, JSON, CJK). Counts for Claude models use o200k and are
labelled estimates (``TokenCount.exact`` is False): Anthropic's tokenizer is not public.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_ENCODING = "o200k_base"


class TokenCount(Record):
    tokens: int
    encoding: str
    exact: bool  # False for models whose tokenizer is not public (Claude): an estimate


def encoding_name(model: str | None) -> tuple[str, bool]:
    """The encoding used for ``model`` and whether counts with it are exact for that model."""
    if not model:
        return DEFAULT_ENCODING, True
    m = model.lower().split(":", 1)[-1].rsplit("/", 1)[-1]
    if m.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt")):
        return "o200k_base", True
    if m.startswith(("gpt-4", "gpt-3.5", "text-embedding")):
        return "cl100k_base", True
    # Claude and other models whose vocabularies are not public: o200k is a close, labelled estimate.
    return "o200k_base", False


@lru_cache(maxsize=4)
def _encoder(name: str) -> Any:
    import quicktok

    return quicktok.get_encoding(name)


def count_tokens(text: str, model: str | None = None) -> int:
    """Exact token count for OpenAI-family models; a labelled estimate (see :func:`count`) else."""
    return count(text, model).tokens


def count(text: str, model: str | None = None) -> TokenCount:
    name, exact = encoding_name(model)
    if not text:
        return TokenCount(0, name, exact)
    return TokenCount(int(_encoder(name).count(text)), name, exact)


def truncate(text: str, max_tokens: int, model: str | None = None) -> tuple[str, int, int]:
    """The longest prefix of ``text`` within ``max_tokens``: ``(prefix, total_tokens, kept_tokens)``.

    The cut falls on a token boundary, moved back to the last line break when one is near, and
    never inside a UTF-8 character. Callers say that they cut (see ``cairn.domain.reviews``).
    """
    if max_tokens < 0:
        raise ValueError("max_tokens must be >= 0")
    name, _ = encoding_name(model)
    if not text:
        return "", 0, 0
    enc = _encoder(name)
    ids = enc.encode(text)
    total = len(ids)
    if total <= max_tokens:
        return text, total, total
    prefix = bytes(enc.decode_bytes(ids[:max_tokens])).decode("utf-8", "ignore")
    newline = prefix.rfind("\n")
    if newline >= len(prefix) * 0.8:
        prefix = prefix[: newline + 1]
    kept = int(enc.count(prefix)) if prefix else 0
    return prefix, total, kept


# Pieces as the o200k/cl100k pre-tokenizers cut text: letter runs, digit runs, non-ASCII runs, a
# single space that joins the word after it, other whitespace, and ASCII punctuation runs.
_PIECES_RE = (
    r"(?P<w>[A-Za-z]+)|(?P<d>[0-9]+)|(?P<u>[^\x00-\x7f]+)|(?P<j> (?=[A-Za-z]))|(?P<s>\s+)"
    r"|(?P<p>[^\sA-Za-z0-9\x80-\U0010ffff]+)"
)


@lru_cache(maxsize=1)
def _pieces() -> re.Pattern[str]:
    # Compiled on first use, not at import: compiling it cost every command ~3 ms.
    return re.compile(_PIECES_RE)


def upper_bound(text: str) -> int:
    """A cheap count meant to be at or above the exact o200k/cl100k count, without a vocabulary.

    Each piece the pre-tokenizer would cut is priced at what it costs at most in ordinary text:
    a lower-case word of up to 14 letters 1 token per 6 (+1), a longer or mixed-case run 1 per 2
    (identifiers, random ids), digits 1
    per 3 (both vocabularies split numbers so), punctuation 1 a character, whitespace 1 per 4 (+1),
    and non-ASCII 1 token per UTF-8 continuation byte (+1): 2 a CJK character, 3 an emoji. It is
    1.3-2.1x the exact count on prose, code, JSON and CJK (``bench/tokens_bench.py`` prints the
    ratios); random base64 or hex and rare-kanji lists can exceed it.
    """
    if not text:
        return 0
    total = 1
    for m in _pieces().finditer(text):
        kind = m.lastgroup
        piece = m.group()
        n = len(piece)
        if kind == "w":
            if n <= 14 and (n == 1 or piece[1:].islower()):
                total += 1 + n // 6  # a word; longer runs are identifiers, hashes, noise
            elif piece.isupper():
                total += 1 + n // 3
            else:
                total += 1 + n // 2
        elif kind == "d":
            total += (n + 2) // 3
        elif kind == "s":
            total += 1 + n // 4
        elif kind == "p":
            total += n
        elif kind == "u":
            total += 1 + len(piece.encode("utf-8", "surrogatepass")) - n
    return total


# -- a fast count that is provably never below the exact o200k count ---------------------------------
# BPE applies merges in rank order. A vocabulary cut to the first BOUND_RANKS ranks (plus every single
# byte) makes exactly the same merges as the full one until the full one would merge a pair ranked
# BOUND_RANKS or later, then stops: so its count is never below the full count, however odd the text
# (hashes, base64, rare scripts). It loads in ~0.015 s instead of ~0.45 s (load time grows with the
# ranks kept), and on English prose and code it is within ~1.2-1.3x of the exact count (CJK ~1.8x).
# ``cairn recover`` uses it to keep the brief within its bound.
BOUND_RANKS = 16_384
# A smaller cut by the same argument: never below the 16k cut's count either (it makes the same merges
# until it needs one ranked 1,024 or later), ~2x exact on prose, and a fresh process loads it in
# ~3 ms instead of the 16k cut's ~30 ms (load time grows faster than the ranks kept). A start-up
# path asks it first.
QUICK_RANKS = 1_024


def guaranteed_upper_bound(text: str) -> int:
    """A token count never below ``count_tokens(text)`` (o200k), cheap to load; see above."""
    if not text:
        return 0
    enc = _bound_encoder()
    return int((enc if enc is not None else _encoder(DEFAULT_ENCODING)).count(text))


def quick_upper_bound(text: str) -> int:
    """Never below :func:`guaranteed_upper_bound` (so never below the exact count), from the
    smaller cut vocabulary; looser (~2x exact on prose) but it loads in a few ms. A short text in
    a process that has not loaded that vocabulary is counted in Python, to the same number
    (:mod:`cairn.core.quick_count`): a fresh command then never loads the library."""
    if not text:
        return 0
    if QUICK_RANKS not in _LOADED_CUTS:
        from cairn.core import quick_count

        n = quick_count.count(text, str(_ranks_file(QUICK_RANKS)))
        if n is not None:
            return n
    enc = _bound_encoder(QUICK_RANKS)
    return int(enc.count(text)) if enc is not None else guaranteed_upper_bound(text)


def fits(text: str, budget: int) -> bool:
    """Exactly ``guaranteed_upper_bound(text) <= budget``, answered as cheaply as it can be: a text
    of at most ``budget`` UTF-8 bytes fits (no token is shorter than a byte), then the small cut
    is asked, and the 16k cut only when that one says no."""
    if len(text) <= budget and len(text.encode("utf-8", "surrogatepass")) <= budget:
        return True
    return quick_upper_bound(text) <= budget or guaranteed_upper_bound(text) <= budget


def bound_count(text: str) -> int:
    """A count never below the exact one: the 16k cut's when this process has loaded it, else the
    small cut's (so that a start-up path that never needed the 16k cut does not load it to say
    how long its text is)."""
    if _BIG_LOADED:
        return guaranteed_upper_bound(text)
    return quick_upper_bound(text)


def _cache_root() -> Path:
    env = os.environ.get("CAIRN_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "cairn"


_BIG_LOADED: list[bool] = []  # non-empty once the BOUND_RANKS cut was loaded in this process
_LOADED_CUTS: set[int] = set()  # the cuts this process asked the library for


def _ranks_file(ranks: int) -> Path:
    # The cut's ranks for :mod:`cairn.core.quick_count`, saved when the library first loads the
    # cut. o200k's vocabulary is fixed, so they do not depend on the library's version (whose
    # name the cut's folder carries, and which only importing the library would tell).
    import marshal

    return _cache_root() / f"o200k-top{ranks}.ranks.marshal{marshal.version}"


@lru_cache(maxsize=2)
def _bound_encoder(ranks: int = BOUND_RANKS) -> Any:
    """The o200k vocabulary cut to ``ranks``, built once into the user cache; None if that is
    impossible (the caller then counts exactly, which is slower but still within the bound)."""
    import quicktok

    _LOADED_CUTS.add(ranks)
    folder = _cache_root() / f"o200k-top{ranks}-quicktok{quicktok.__version__}"
    try:
        if not (folder / "o200k.vocab").is_file():
            _build_bound_vocab(folder, ranks)
        enc = quicktok.Tokenizer("o200k_base", str(folder))
    except (OSError, ValueError, RuntimeError):
        return None
    if ranks == BOUND_RANKS:
        _BIG_LOADED.append(True)
    if ranks == QUICK_RANKS:
        from cairn.core import quick_count

        quick_count.save(str(folder / "o200k.vocab"), str(_ranks_file(ranks)))
    return enc


def _build_bound_vocab(folder: Path, ranks: int = BOUND_RANKS) -> None:
    import shutil
    import struct  # here, not at the top: only a first build reads the vocabulary's layout
    import tempfile

    import quicktok

    data = Path(quicktok.__file__).parent / "data"
    raw = (data / "o200k.vocab").read_bytes()
    # Layout: u32 entry count, then per entry u16 length, the token's bytes, u32 rank.
    try:
        (n,) = struct.unpack_from("<I", raw, 0)
        off, parts, kept = 4, [b""], 0
        for _ in range(n):
            (length,) = struct.unpack_from("<H", raw, off)
            end = off + 2 + length + 4
            (rank,) = struct.unpack_from("<I", raw, end - 4)
            if rank < ranks or length == 1:
                parts.append(raw[off:end])
                kept += 1
            off = end
    except struct.error as exc:
        raise ValueError("unexpected o200k vocabulary layout") from exc
    if off != len(raw) or kept < 256:
        raise ValueError("unexpected o200k vocabulary layout")
    parts[0] = struct.pack("<I", kept)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        for f in data.iterdir():
            if f.is_file() and not f.name.endswith(".vocab"):
                shutil.copyfile(f, tmp / f.name)
        (tmp / "o200k.vocab").write_bytes(b"".join(parts))
        # Check before first use that the cut vocabulary counts at or above the real one.
        cut = quicktok.Tokenizer("o200k_base", str(tmp))
        full = _encoder(DEFAULT_ENCODING)
        for probe in _bound_probes():
            if cut.count(probe) < full.count(probe):
                raise ValueError("the cut vocabulary counted below the exact count")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "o200k.vocab").is_file():  # not a concurrent build that won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bound_probes() -> tuple[str, ...]:
    # Made when a cut is first built, not at import: the last one cost every command ~0.2 ms.
    return (
        "The quick brown fox jumps over the lazy dog. def f(x):\n    return x ** 2\n" * 20,
        "敏捷的棕色狐狸跳过了懒狗。Быстрая коричневая лиса. 🧱✅⏳ 0123456789abcdef" * 20,
        "".join(chr(c) for c in range(32, 0x3000, 7)),
    )
