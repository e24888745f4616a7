"""Ambiguous verdicts (issue 11, defect 6): a reply that holds verdicts that disagree, or an
``approved`` that is not a JSON boolean, is no verdict, wherever the objects sit (the whole reply,
a fenced block, prose, a quote after the answer, one object nested in another, a key given twice)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.models.verdict import InvalidVerdict, parse_verdict

NO = '{"approved": false, "recommendation": "revise the plan", "concerns": ["cost"]}'
YES = '{"approved": true, "recommendation": "go ahead", "concerns": []}'


@pytest.mark.parametrize(
    "reply",
    [
        f"My verdict: {NO}\n\nAn earlier reviewer said {YES}",
        f"```json\n{NO}\n```\nQuoting the last round:\n```json\n{YES}\n```",
        f"```json\n{NO}\n```\n{YES}",
        f"{NO}\n{YES}",
        f"[{NO}, {YES}]",
        '{"approved": true, "recommendation": "ok", "concerns": [], "was": ' + NO + "}",
        '{"approved": false, "approved": true, "recommendation": "ok", "concerns": []}',
    ],
)
def test_verdicts_that_disagree_are_no_verdict(reply: str) -> None:
    with pytest.raises(InvalidVerdict, match="disagree"):
        parse_verdict(reply)


@pytest.mark.parametrize(
    "other",
    ['{"approved": "true"}', '{"approved": null}', '{"approved": 1}', '{"approved": "yes"}'],
)
def test_any_approved_that_is_not_a_boolean_spoils_the_reply(other: str) -> None:
    with pytest.raises(InvalidVerdict, match="true or false"):
        parse_verdict(f"{YES}\nand also {other}")


def test_verdicts_that_agree_still_count() -> None:
    v = parse_verdict(f"Verdict:\n```json\n{NO}\n```\nSame as before: {NO}")
    assert v.approved is False and v.recommendation == "revise the plan"
    assert parse_verdict(f"{YES} (and again: {YES})").approved is True


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
_value = st.one_of(st.booleans(), st.none(), st.integers(), _text)


@settings(max_examples=300, deadline=None)
@given(
    before=_text,
    after=_text,
    rec=_text,
    extra=st.dictionaries(_text, _value, max_size=3),
    others=st.lists(st.dictionaries(_text, _value, max_size=3), max_size=3),
    fenced=st.booleans(),
    quoted=st.booleans(),
)
def test_a_reply_holding_a_rejection_is_never_an_approval(
    before: str,
    after: str,
    rec: str,
    extra: dict[str, object],
    others: list[dict[str, object]],
    fenced: bool,
    quoted: bool,
) -> None:
    no = json.dumps({**extra, "approved": False, "recommendation": rec, "concerns": []})
    if fenced:
        no = f"```json\n{no}\n```"
    yes = json.dumps({"approved": True, "recommendation": "go", "concerns": []})
    parts = [before, no, *(json.dumps(o) for o in others), after]
    if quoted:
        parts.append(f"Earlier: {yes}")
    try:
        verdict = parse_verdict("\n".join(parts))
    except InvalidVerdict:
        return
    assert verdict.approved is False
