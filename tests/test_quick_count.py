"""The small cut's count in Python (cairn.core.quick_count) gives the library's number exactly."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.core import quick_count, tokens

ROOT = Path(__file__).resolve().parents[1]

# Pieces that meet at the pre-tokenizer's edges: contractions in any case, runs of white space
# before and after line breaks, punctuation that swallows line breaks and slashes, the mark after
# a symbol or a capital, digits in threes, and every ASCII control character.
_ALPHABET = [
    *"abcdefghijklmnopqrstuvwxyz" * 3,
    *"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    *"0123456789" * 2,
    *[" "] * 12,
    *["\n"] * 4,
    *["\t", "\r", "\x0b", "\x0c", "\r\n", "  ", "\n\n", " \n", "\t\n "],
    *["'", "'s", "'S", "'t", "'re", "'RE", "'Ve", "'ll", "'lL", "'d", "'M", "'x"],
    *'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~',
    *["//", ".\n/", "\n/", "://"],
    *quick_count._SYMBOLS,
    *["\ufe0f", "⏸\ufe0f", " ⏸\ufe0f", "\ufe0fA", "\ufe0fa", "a\ufe0f"],
    *[chr(c) for c in [*range(32), 127]],
    *["hello", " world", " The", "HTTP", "Server", "ing", "tion", "123456", "0x1f", "CamelCase"],
]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    enc = tokens._bound_encoder(tokens.QUICK_RANKS)  # builds the cut and saves its ranks
    if enc is not None:
        yield enc
        return
    # The user cache is not writable (the library then counts without the cut): build the cut
    # in a folder of this run instead, so the comparison always runs.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAIRN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        tokens._bound_encoder.cache_clear()
        enc = tokens._bound_encoder(tokens.QUICK_RANKS)
        assert enc is not None, "no cut vocabulary even in a fresh temporary cache"
        yield enc
        tokens._bound_encoder.cache_clear()


def _texts() -> list[str]:
    rng = random.Random(9)
    texts = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 80))) for _ in range(4000)]
    for folder in ("src/cairn/recovery", "src/cairn/core", "docs"):
        for f in sorted((ROOT / folder).iterdir()):
            if f.suffix in (".py", ".md"):
                text = f.read_text(encoding="utf-8")
                texts.append(text[:6000])
                texts.extend(text.splitlines(keepends=True)[:200])
    return texts


def test_the_python_count_is_the_librarys(library: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quick_count, "BUDGET_CHARS", 10**9)
    ranks = str(tokens._ranks_file(tokens.QUICK_RANKS))
    counted = 0
    for text in _texts():
        mine = quick_count.count(text, ranks)
        if mine is None:
            assert not quick_count._KNOWN.issuperset(c for c in text if c > "\x7f"), repr(text)
            continue
        counted += 1
        assert mine == library.count(text), repr(text)  # type: ignore[attr-defined]
    assert counted > 4000


def test_unknown_characters_and_a_spent_budget_go_to_the_library(
    library: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranks = str(tokens._ranks_file(tokens.QUICK_RANKS))
    for text in ("café", "敏捷的棕色狐狸", "nbsp\xa0here", "emoji 🧱"):
        assert quick_count.count(text, ranks) is None
    assert quick_count.count("x", str(ROOT / "no-such-ranks")) is None
    monkeypatch.setattr(quick_count, "_spent", quick_count.BUDGET_CHARS)
    assert quick_count.count("plain", ranks) is None


def test_a_fresh_process_counts_a_brief_without_the_library(
    library: object, tmp_path: Path
) -> None:
    import subprocess
    import sys

    text = "# Recovery brief: t (2026-12-01T19:14:03.659Z)\n**Phase**: plan ⏳ · test ⏸️ — …\n"
    code = (
        "import sys; from cairn.core import tokens; "
        f"print(tokens.quick_upper_bound({text!r}), 'quicktok' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == [str(library.count(text)), "False"], out.stderr  # type: ignore[attr-defined]


def test_a_damaged_copy_of_the_ranks_is_not_used_and_is_made_again(
    library: object, tmp_path: Path
) -> None:
    ranks = tmp_path / "ranks"
    ranks.write_bytes(b"\x00not marshal")
    assert quick_count._load(str(ranks)) is None
    import quicktok

    cut = f"o200k-top{tokens.QUICK_RANKS}-quicktok{quicktok.__version__}"
    vocab = tokens._cache_root() / cut / "o200k.vocab"
    quick_count.save(str(vocab), str(ranks))
    assert quick_count._load(str(ranks)) == quick_count._load(
        str(tokens._ranks_file(tokens.QUICK_RANKS))
    )
