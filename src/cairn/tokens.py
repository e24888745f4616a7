"""Token counting, offline.

Exact counts use the BPE vocabularies that the ``quicktok-v1`` package ships (cl100k, o200k), so
nothing is downloaded at run time. Loading a vocabulary takes 0.15-0.4 s, so start-up-critical paths
(``cairn recover`` from a hook) use :func:`upper_bound`, a cheap estimate that is never below the
exact count on ordinary text.
"""

from __future__ import annotations

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


def upper_bound(text: str) -> int:
    """A cheap count meant to be at or above the exact o200k/cl100k count.

    BPE vocabularies average 3.5-4.5 bytes a token on prose and code; one token per 2.5 bytes, and one
    per non-ASCII character, leaves a wide margin without loading a vocabulary.
    """
    if not text:
        return 0
    n_bytes = len(text.encode("utf-8"))
    if n_bytes == len(text):
        return (n_bytes * 2 + 4) // 5 + 1
    non_ascii = n_bytes - len(text)  # a lower bound on non-ASCII characters, as each takes 2+ bytes
    return (n_bytes * 2 + 4) // 5 + non_ascii // 2 + 1
