"""Offline token counting: exact against published tiktoken tokenizations, labelled estimates for
models whose tokenizer is not public, token-exact truncation, and the cheap upper bound."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.tokens import TokenCount, count, count_tokens, encoding_name, truncate, upper_bound

# Token ids as tiktoken produces them: tests/test_encoding.py in openai/tiktoken ("hello world",
# "rer", "today\n  \n", " \x850", "👍") and the cookbook "How to count tokens with tiktoken"
# (antidisestablishmentarianism, "2 + 2 = 4", お誕生日おめでとう, "tiktoken is great!").
REFERENCE: dict[str, list[tuple[str, list[int]]]] = {
    "cl100k_base": [
        ("hello world", [15339, 1917]),
        ("rer", [38149]),
        ("'rer", [2351, 81]),
        ("today\n ", [31213, 198, 220]),
        ("today\n \n", [31213, 27907]),
        ("today\n  \n", [31213, 14211]),
        (" \x850", [220, 126, 227, 15]),
        ("👍", [9468, 239, 235]),
        ("tiktoken is great!", [83, 1609, 5963, 374, 2294, 0]),
        ("antidisestablishmentarianism", [519, 85342, 34500, 479, 8997, 2191]),
        ("2 + 2 = 4", [17, 489, 220, 17, 284, 220, 19]),
        ("お誕生日おめでとう", [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699]),
    ],
    "o200k_base": [
        ("hello world", [24912, 2375]),
        ("tiktoken is great!", [83, 8251, 2488, 382, 2212, 0]),
        ("antidisestablishmentarianism", [493, 129901, 376, 160388, 21203, 2367]),
        ("2 + 2 = 4", [17, 659, 220, 17, 314, 220, 19]),
        ("お誕生日おめでとう", [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669]),
    ],
}
MODEL_FOR = {"cl100k_base": "gpt-4", "o200k_base": "gpt-4o"}


@pytest.mark.parametrize(
    ("encoding", "text", "ids"),
    [(enc, text, ids) for enc, rows in REFERENCE.items() for text, ids in rows],
)
def test_counts_match_tiktoken(encoding: str, text: str, ids: list[int]) -> None:
    import quicktok

    assert quicktok.get_encoding(encoding).encode(text) == ids
    got = count(text, MODEL_FOR[encoding])
    assert got == TokenCount(len(ids), encoding, True)
    assert count_tokens(text, MODEL_FOR[encoding]) == len(ids)


@pytest.mark.parametrize(
    ("model", "encoding", "exact"),
    [
        (None, "o200k_base", True),
        ("gpt-4o-mini", "o200k_base", True),
        ("openai:gpt-5", "o200k_base", True),
        ("o3-mini", "o200k_base", True),
        ("gpt-4-turbo", "cl100k_base", True),
        ("gpt-3.5-turbo", "cl100k_base", True),
        ("claude-sonnet-4-6", "o200k_base", False),
        ("anthropic:claude-opus-4-7", "o200k_base", False),
        ("claude", "o200k_base", False),
    ],
)
def test_claude_counts_are_labelled_estimates(
    model: str | None, encoding: str, exact: bool
) -> None:
    assert encoding_name(model) == (encoding, exact)
    assert count("hello world", model).exact is exact


def test_empty_text_is_zero_tokens() -> None:
    assert count_tokens("") == 0 and upper_bound("") == 0
    assert truncate("", 10) == ("", 0, 0)


def test_truncate_cuts_on_a_line_when_one_is_near() -> None:
    text = "".join(f"line {i}\n" for i in range(100))
    prefix, total, kept = truncate(text, 50)
    assert total == count_tokens(text) and kept <= 50 and prefix.endswith("\n")
    assert text.startswith(prefix) and count_tokens(prefix) == kept
    assert truncate("short", 50) == ("short", 1, 1)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400), limit=st.integers(min_value=0, max_value=120))
def test_truncate_keeps_a_prefix_within_the_limit(text: str, limit: int) -> None:
    prefix, total, kept = truncate(text, limit)
    assert kept <= limit and kept <= total
    assert count_tokens(prefix) == kept
    # The prefix is the text's own start, though a character split across tokens may be dropped.
    assert (
        text.encode("utf-8", "surrogatepass").startswith(prefix.encode("utf-8", "surrogatepass"))
        or "\ufffd" in text
        or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    )
    if total <= limit:
        assert prefix == text


SAMPLES = {
    "prose": (
        "An agent works alone for hours. Its context is compacted at moments it cannot choose; "
        "its process can die. Whatever lived only in its context is then gone. " * 20
    ),
    "code": (
        "def check_gate(ws, tx, task_id, phase, *, override=None):\n"
        "    gs = gate_state(tx, task_id)\n    if gs.open:\n        return\n"
        "    raise TransitionError(gate_message(task_id, phase, gs))\n" * 20
    ),
    "json": json.dumps(
        [{"id": i, "approved": i % 2 == 0, "concerns": ["GPU cost", "複雑さ"]} for i in range(60)]
    ),
    "cjk": "お誕生日おめでとう。計画は承認されました、次の段階に進みます。我们检查了每一个检查点。"
    * 20,
    "emoji": "👍🚀✅⏳⏸️❌ done " * 40,
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_upper_bound_is_never_below_the_exact_count(kind: str) -> None:
    text = SAMPLES[kind]
    for model in ("gpt-4o", "gpt-4"):
        assert upper_bound(text) >= count_tokens(text, model), (kind, model)
