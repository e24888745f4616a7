"""Token counting, offline.

Exact counts use the BPE vocabularies that the ``quicktok-v1`` package ships (cl100k, o200k), so
nothing is downloaded at run time. Loading a vocabulary takes 0.15-0.4 s, so start-up-critical paths
(``cairn recover`` from a hook) use :func:`upper_bound`, a cheap estimate that stays at or above the
exact count on ordinary text (prose, code, JSON, CJK). Counts for Claude models use o200k and are
labelled estimates (``TokenCount.exact`` is False): Anthropic's tokenizer is not public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DEFAULT_ENCODING = "o200k_base"


@dataclass(frozen=True)
class TokenCount:
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
    never inside a UTF-8 character. Callers say that they cut (see ``cairn.reviews``).
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
_PIECES = re.compile(
    r"(?P<w>[A-Za-z]+)|(?P<d>[0-9]+)|(?P<u>[^\x00-\x7f]+)|(?P<j> (?=[A-Za-z]))|(?P<s>\s+)"
    r"|(?P<p>[^\sA-Za-z0-9\x80-\U0010ffff]+)"
)


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
    for m in _PIECES.finditer(text):
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
