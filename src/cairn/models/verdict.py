"""What a reviewer is asked, and how its reply becomes a verdict, or does not.

A verdict is the JSON object ``{"approved": bool, "recommendation": str, "concerns": [str]}``. A reply
that does not hold one is an :class:`InvalidVerdict`, never an approval.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

VERDICT_SCHEMA = (
    '{"approved": true or false, "recommendation": "what to do next, in a few sentences", '
    '"concerns": ["each remaining concern, one short sentence each"]}'
)

SYSTEM_PROMPT = f"""You are a second-model reviewer for an autonomous coding agent. The agent asks \
whether its plan or progress is sound before it commits hours of work. Judge the material given, \
weigh every stated concern, and be specific: name files, steps and risks.

Answer with exactly one JSON object and nothing else, of this form:
{VERDICT_SCHEMA}
Set "approved" to false when the plan should be revised before work goes on; then say in \
"recommendation" what to change. Do not run commands or edit files."""

CONTEXT_OPEN = "<<<CONTEXT path={path} tokens={tokens}{truncated}>>>"
CONTEXT_CLOSE = "<<<END CONTEXT>>>"
_CONTEXT_RE = re.compile(
    r"^<<<CONTEXT path=(?P<path>.+?) tokens=(?P<tokens>\d+)(?P<trunc> truncated)?>>>\n"
    r"(?P<body>.*?)\n<<<END CONTEXT>>>$",
    re.S | re.M,
)


@dataclass(frozen=True)
class ContextDoc:
    path: str
    text: str  # as sent, with the truncation marker when cut
    tokens: int  # of the whole file
    sent_tokens: int
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "tokens": self.tokens,
            "sent_tokens": self.sent_tokens,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class Verdict:
    approved: bool
    recommendation: str
    concerns: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "recommendation": self.recommendation,
            "concerns": list(self.concerns),
        }


class InvalidVerdict(ValueError):
    """The reply holds no valid verdict; ``str(exc)`` says what is wrong with it."""


def build_prompt(topic: str, question: str, concerns: list[str], contexts: list[ContextDoc]) -> str:
    out = [f"# Review request: {topic}", "", "## Question", "", question.strip(), ""]
    if concerns:
        out += ["## Concerns to weigh", ""] + [f"- {c}" for c in concerns] + [""]
    if contexts:
        out += ["## Context", ""]
        for doc in contexts:
            out.append(
                CONTEXT_OPEN.format(
                    path=doc.path,
                    tokens=doc.tokens,
                    truncated=" truncated" if doc.truncated else "",
                )
            )
            out.append(doc.text)
            out.append(CONTEXT_CLOSE)
            out.append("")
    out += ["## Answer", "", f"Reply with one JSON object: {VERDICT_SCHEMA}", ""]
    return "\n".join(out)


def parse_prompt(prompt: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The stated concerns and the (path, text) context documents of a prompt from
    :func:`build_prompt`; used by the structural checklist reviewer."""
    concerns: list[str] = []
    m = re.search(r"^## Concerns to weigh\n\n(?P<body>(?:- .*\n)+)", prompt, re.M)
    if m:
        concerns = [line[2:].strip() for line in m.group("body").splitlines() if line.strip()]
    docs = [(d.group("path"), d.group("body")) for d in _CONTEXT_RE.finditer(prompt)]
    return concerns, docs


def repair_prompt(reply: str, problem: str) -> str:
    shown = reply if len(reply) <= 6000 else reply[:6000] + "\n[... reply cut here ...]"
    return (
        "Your previous reply could not be read as a review verdict: "
        f"{problem}.\n\nYour previous reply was:\n<<<REPLY\n{shown}\nREPLY>>>\n\n"
        "Give the same judgement again as exactly one JSON object and nothing else, of this "
        f"form:\n{VERDICT_SCHEMA}\n"
    )


class _Obj(dict[str, Any]):
    """A decoded JSON object that remembers every value its ``approved`` key was given: JSON
    allows a key twice and ``json`` keeps the last, so ``{"approved": false, "approved": true}``
    would otherwise read as an approval."""

    approved_values: list[Any]


def _pairs(pairs: list[tuple[str, Any]]) -> _Obj:
    obj = _Obj(pairs)
    obj.approved_values = [v for k, v in pairs if k == "approved"]
    return obj


def _candidates(text: str) -> list[Any]:
    """Every JSON value the reply holds: the whole text, each fenced block, and the object that
    starts at each ``{`` (so objects nested in, or quoted after, another are all seen)."""
    found: list[Any] = []
    decoder = json.JSONDecoder(object_pairs_hook=_pairs)
    with contextlib.suppress(json.JSONDecodeError, ValueError, RecursionError):
        found.append(decoder.decode(text.strip()))
    for fence in re.finditer(r"```(?:json|JSON)?\s*\n(.*?)```", text, re.S):
        with contextlib.suppress(json.JSONDecodeError, ValueError, RecursionError):
            found.append(decoder.decode(fence.group(1)))
    for i, ch in enumerate(text):
        if ch != "{":
            continue
        try:
            obj, _ = decoder.raw_decode(text, i)
        except (json.JSONDecodeError, ValueError, RecursionError):
            continue
        found.append(obj)
    return found


def parse_verdict(text: str) -> Verdict:
    """The verdict in ``text``; raises :class:`InvalidVerdict` saying why there is none.

    The reply may wrap the object in prose or a code fence, and may hold several objects with an
    ``approved`` key (a quoted earlier verdict, say); the last one counts, but only when every
    ``approved`` value in the reply is a JSON boolean and they all agree: an ambiguous reply is
    never an approval.
    """
    if not text or not text.strip():
        raise InvalidVerdict("the reply is empty")
    objects = [o for o in _candidates(text) if isinstance(o, dict) and "approved" in o]
    if not objects:
        raise InvalidVerdict('the reply holds no JSON object with an "approved" key')
    values = [v for o in objects for v in getattr(o, "approved_values", [o["approved"]])]
    for value in values:
        if not isinstance(value, bool):
            raise InvalidVerdict(
                f'"approved" is {value!r}; it must be the JSON value true or false'
            )
    if len(set(values)) > 1:
        raise InvalidVerdict(
            'the reply holds verdicts that disagree ("approved" is both true and false); '
            "give exactly one"
        )
    obj = objects[-1]
    approved = obj["approved"]
    rec = obj.get("recommendation")
    if not isinstance(rec, str):
        raise InvalidVerdict('"recommendation" is missing or not a string')
    concerns = obj.get("concerns")
    if not isinstance(concerns, list) or not all(isinstance(c, str) for c in concerns):
        raise InvalidVerdict('"concerns" is missing or not a list of strings')
    if not approved and not rec.strip():
        raise InvalidVerdict('a rejection needs a "recommendation" saying what to change')
    return Verdict(approved, rec.strip(), tuple(c.strip() for c in concerns if c.strip()))
