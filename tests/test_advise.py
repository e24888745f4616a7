"""`cairn advise`: the seed's delegate/direct rules and their precedence."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.cli import main
from cairn.core.errors import ValidationError
from cairn.domain.advise import RULES, advise


@pytest.mark.parametrize(
    ("kwargs", "decision", "rule"),
    [
        ({"read_lines": 800, "write_lines": 150, "rounds": 3}, "delegate", "read-lines"),
        ({"read_lines": 500}, "direct", "default"),
        ({"read_lines": 501}, "delegate", "read-lines"),
        ({"write_lines": 101}, "delegate", "write-lines"),
        ({"write_lines": 100, "edit_lines": 20}, "direct", "small-edit"),
        ({"rounds": 2}, "delegate", "rounds"),
        ({"rounds": 1}, "direct", "default"),
        ({"debugging": True}, "delegate", "debugging"),
        ({"multi_step": True, "minutes": 5}, "delegate", "multi-step"),
        ({"minutes": 5}, "direct", "quick"),
        ({"edit_lines": 49, "minutes": 30}, "direct", "small-edit"),
        ({"edit_lines": 50, "minutes": 30}, "direct", "default"),
        # The "when not" rules of the seed outrank the triggers.
        ({"read_lines": 800, "sequential": True}, "direct", "sequential"),
        ({"debugging": True, "need_details": True}, "direct", "need-details"),
        ({"read_lines": 2000, "need_details": True, "sequential": True}, "direct", "need-details"),
        # Reading outranks the small-edit rule: a 20-line fix after reading 900 lines.
        ({"read_lines": 900, "edit_lines": 20}, "delegate", "read-lines"),
    ],
)
def test_rules_and_precedence(kwargs: dict[str, object], decision: str, rule: str) -> None:
    a = advise(**kwargs)  # type: ignore[arg-type]
    assert (a.decision, a.rule) == (decision, rule)
    assert a.fired[0] == rule


def test_all_fired_rules_are_reported_in_order() -> None:
    a = advise(read_lines=800, write_lines=150, rounds=3, debugging=True)
    assert a.fired == ["read-lines", "write-lines", "rounds", "debugging"]
    assert a.direct_tokens > a.delegated_tokens
    order = [r for r, _, _ in RULES]
    assert [order.index(r) for r in a.fired] == sorted(order.index(r) for r in a.fired)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValidationError):
        advise(read_lines=-1)
    with pytest.raises(ValidationError):
        advise(minutes=-3)


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["advise", "--read-lines", "800", "--write-lines", "150", "--rounds", "3"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("Delegate to a subagent (rule read-lines")
    code = main(["advise", "--read-lines", "800", "--sequential", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "direct" and data["rule"] == "sequential"
    assert data["fired"] == ["sequential", "read-lines"]
    assert data["precedence"][0] == "need-details"


@given(
    read=st.integers(0, 3000),
    write=st.integers(0, 500),
    rounds=st.integers(0, 6),
    sequential=st.booleans(),
    details=st.booleans(),
    minutes=st.none() | st.floats(0, 120),
    debugging=st.booleans(),
    multi=st.booleans(),
    edit=st.none() | st.integers(0, 200),
)
def test_first_fired_rule_decides(
    read: int,
    write: int,
    rounds: int,
    sequential: bool,
    details: bool,
    minutes: float | None,
    debugging: bool,
    multi: bool,
    edit: int | None,
) -> None:
    a = advise(
        read_lines=read,
        write_lines=write,
        rounds=rounds,
        sequential=sequential,
        need_details=details,
        minutes=minutes,
        debugging=debugging,
        multi_step=multi,
        edit_lines=edit,
    )
    decisions = {r: d for r, d, _ in RULES}
    order = [r for r, _, _ in RULES]
    assert a.rule == a.fired[0]
    assert a.decision == decisions[a.rule]
    assert [order.index(r) for r in a.fired] == sorted(order.index(r) for r in a.fired)
    if details:
        assert (a.decision, a.rule) == ("direct", "need-details")
    elif not sequential and (read > 500 or write > 100 or rounds >= 2 or debugging or multi):
        assert a.decision == "delegate"
    else:
        assert a.decision == "direct"
