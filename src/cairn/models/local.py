"""Reviewers that need no model: a person (or a file someone fills in), and a structural checklist.

``checklist`` is the reviewer used when none is configured. It reads the plan the request carries
and checks it has what the seed's plan template asks for (Task, Files to modify, Approach, Tests
needed, Estimated time), and lists the stated concerns and whether the plan mentions them. It says
plainly that it checks structure; it does not judge whether the approach is sound.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cairn.models.base import Completion, Model, ModelError
from cairn.models.verdict import parse_prompt

PLAN_FIELDS = ("Task", "Files to modify", "Approach", "Tests needed", "Estimated time")
_PLACEHOLDER = re.compile(r"^\[[^\]]*\]$")


class DeferredModel(Model):
    """The request waits: someone answers with ``cairn review answer`` (or the MCP tool)."""

    deferred = True

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        raise ModelError(
            f"{self.spec} is answered by a person: run `cairn review answer REVIEW_ID --approve|"
            "--reject --recommendation ...`"
        )


class HumanModel(DeferredModel):
    provider = "human"


class FileModel(DeferredModel):
    provider = "file"


def _field_values(text: str) -> dict[str, str]:
    """``**Field**: value`` (or a ``## Field`` heading) -> value, with continuation lines."""
    names = "|".join(re.escape(f) for f in PLAN_FIELDS)
    start = re.compile(
        rf"^\s*(?:[-*]\s*)?(?:\*\*(?P<a>{names})\*\*\s*:?|(?P<b>{names})\s*:|#+\s*(?P<c>{names})"
        r"\s*:?\s*$)\s*(?P<rest>.*)$",
        re.I,
    )
    values: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        m = start.match(line)
        if m:
            name = (m.group("a") or m.group("b") or m.group("c")).lower()
            current = next(f for f in PLAN_FIELDS if f.lower() == name)
            values.setdefault(current, []).append(m.group("rest").strip())
            continue
        if current is None:
            continue
        if line.startswith("#") or re.match(r"^\s*\*\*[^*]+\*\*\s*:", line):
            current = None  # another heading or field ends this one
            continue
        values[current].append(line.strip())
    return {k: "\n".join(v).strip() for k, v in values.items()}


def _filled(value: str) -> bool:
    lines = [ln.strip().lstrip("-*0123456789. ").strip() for ln in value.splitlines()]
    real = [ln for ln in lines if ln and not _PLACEHOLDER.match(ln)]
    return bool(real)


def checklist_verdict(prompt: str) -> dict[str, Any]:
    concerns_stated, docs = parse_prompt(prompt)
    plan_docs = [
        (p, t)
        for p, t in docs
        if p.endswith("_plan.md") or re.search(r"\*\*(Approach|Files to modify)\*\*", t)
    ]
    target = plan_docs or docs
    text = "\n\n".join(t for _, t in target)
    concerns: list[str] = []
    if not docs:
        concerns.append("the request carries no plan to check; pass it with --context")
        missing = list(PLAN_FIELDS)
    else:
        values = _field_values(text)
        missing = [f for f in PLAN_FIELDS if not _filled(values.get(f, ""))]
        for f in missing:
            state = "is a template placeholder" if f in values else "is missing"
            concerns.append(f"the plan's '{f}' {state}")
    lowered = text.lower()
    for c in concerns_stated:
        words = [w for w in re.findall(r"[\w-]+", c.lower()) if len(w) > 2] or [c.lower()]
        if all(w in lowered for w in words):
            concerns.append(
                f"stated concern '{c}': the plan mentions it; whether it is handled well "
                "needs a judgement this check cannot make"
            )
        else:
            concerns.append(f"stated concern '{c}': the plan does not mention it; address it")
    where = ", ".join(p for p, _ in target) or "no context"
    intro = (
        "Structural check only (cairn checklist reviewer), not a judgement of whether the "
        f"approach is sound. Checked {where} against the seed's plan template "
        f"({', '.join(PLAN_FIELDS)})."
    )
    if missing:
        rec = (
            f"{intro} Fill in {', '.join(missing)}, write the plan again, and request a new review."
        )
    else:
        rec = (
            f"{intro} All five fields are filled in. For a judgement of the approach, configure a "
            'model reviewer ([reviews] default = "codex" or "openai:MODEL" in .cairn/config.toml).'
        )
    return {"approved": not missing, "recommendation": rec, "concerns": concerns}


class ChecklistModel(Model):
    provider = "checklist"

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        from cairn.core.tokens import count_tokens

        text = json.dumps(checklist_verdict(prompt), ensure_ascii=False)
        return Completion(
            text=text,
            input_tokens=count_tokens(prompt),
            output_tokens=count_tokens(text),
            model=self.name or "structural-v1",
            provider=self.provider,
            raw=None,
            tokens_exact=False,
        )


def create_human(model: str, settings: Mapping[str, Any]) -> Model:
    return HumanModel(model, settings)


def create_file(model: str, settings: Mapping[str, Any]) -> Model:
    return FileModel(model, settings)


def create_checklist(model: str, settings: Mapping[str, Any]) -> Model:
    return ChecklistModel(model, settings)
