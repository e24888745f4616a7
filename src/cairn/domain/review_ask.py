"""Putting a recorded review to its model: the question, one repair prompt when the reply holds no
valid verdict, and the reply as given. Touches no workspace, so it may run outside the workspace's
lock, in another thread (the MCP server reports progress meanwhile); recording the reply is
:func:`cairn.domain.reviews.record_reply`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.core.errors import CairnError

if TYPE_CHECKING:
    from cairn.domain.review_records import Review
    from cairn.models import Model
    from cairn.models.verdict import Verdict


@dataclass(frozen=True)
class Reply:
    """What a reviewer gave: a verdict, or the error that stands for none."""

    verdict: Verdict | None
    error: str | None
    raws: list[str]
    attempts: int
    usage: tuple[int | None, int | None]
    model_name: str | None


@dataclass(frozen=True)
class Asking:
    """A recorded, pending review round and what to ask its model."""

    review: Review
    model: Model
    prompt: str
    max_tokens: int
    timeout: float

    def ask(self) -> Reply:
        from cairn.models.verdict import SYSTEM_PROMPT

        return Reply(*_ask(self.model, self.prompt, SYSTEM_PROMPT, self.max_tokens, self.timeout))


def _ask(
    model: Model, prompt: str, system: str, max_tokens: int, timeout: float
) -> tuple[Verdict | None, str | None, list[str], int, tuple[int | None, int | None], str | None]:
    from cairn.models.verdict import InvalidVerdict, parse_verdict, repair_prompt

    raws: list[str] = []
    attempts = 0
    tokens_in: int | None = None
    tokens_out: int | None = None
    model_name: str | None = model.name or None

    def add(a: int | None, b: int | None) -> int | None:
        return b if a is None else (a if b is None else a + b)

    try:
        first = model.complete(prompt, system=system, max_tokens=max_tokens, timeout=timeout)
        attempts, model_name = 1, first.model
        raws.append(first.text)
        tokens_in, tokens_out = first.input_tokens, first.output_tokens
        try:
            return (
                parse_verdict(first.text),
                None,
                raws,
                attempts,
                (tokens_in, tokens_out),
                model_name,
            )
        except InvalidVerdict as exc1:
            problem1 = str(exc1)
        second = model.complete(
            prompt + "\n\n" + repair_prompt(first.text, problem1),
            system=system,
            max_tokens=max_tokens,
            timeout=timeout,
        )
        attempts = 2
        raws.append(second.text)
        tokens_in = add(tokens_in, second.input_tokens)
        tokens_out = add(tokens_out, second.output_tokens)
        try:
            return (
                parse_verdict(second.text),
                None,
                raws,
                attempts,
                (tokens_in, tokens_out),
                model_name,
            )
        except InvalidVerdict as exc2:
            error = (
                f"no valid verdict after a repair prompt: first reply: {problem1}; "
                f"second reply: {exc2}"
            )
    except CairnError as exc:
        error = str(exc)
    except Exception as exc:  # a reviewer bug must not become an approval, nor lose the request
        error = f"{type(exc).__name__}: {exc}"
    return None, error, raws, max(attempts, 1), (tokens_in, tokens_out), model_name
