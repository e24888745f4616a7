"""Reviews: rounds of a question put to a reviewer, and the append-only responses to each.

A review is one round of a topic; asking the topic again makes round + 1, which *supersedes* the
rounds before it (they no longer wait for an answer). A review's state moves from ``pending`` to
``approved``, ``rejected`` or ``failed`` (a failed one may still be answered); responses are never
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

REVIEW_STATES = ("pending", "approved", "rejected", "failed")


@dataclass(frozen=True, slots=True)
class ReviewRow:
    id: str  # r<YYYYMMDD>-<NNN>
    task_id: str | None
    topic: str
    round: int
    question: str
    concerns: tuple[str, ...]
    context: tuple[Mapping[str, Any], ...]  # {path, tokens, sent_tokens, truncated} per file
    reviewer: str
    plan_version: int | None  # the task's plan version under review, if the plan was sent
    state: str
    request_path: str
    created_at: str
    updated_at: str
    prompt: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class ReviewResponseRow:
    id: int
    review_id: str
    reviewer: str
    provider: str
    model: str | None
    outcome: str  # approved | rejected | failed
    approved: bool | None  # None: the reviewer failed, there is no verdict
    recommendation: str | None
    concerns: tuple[str, ...]
    error: str | None
    raw: tuple[str, ...]
    attempts: int
    input_tokens: int | None
    output_tokens: int | None
    response_path: str
    created_at: str


class ReviewsArea(Protocol):
    def add(self, row: ReviewRow) -> None:
        """DuplicateKey if its id exists."""
        ...

    def get(self, review_id: str) -> ReviewRow | None: ...

    def count_ids(self, prefix: str) -> int:
        """How many review ids start with ``prefix``."""
        ...

    def last_round(self, topic: str) -> int:
        """The highest round of ``topic``, 0 if it has none."""
        ...

    def newer_round(self, topic: str, round: int) -> ReviewRow | None:
        """The highest round of ``topic`` above ``round``, if any (it supersedes ``round``)."""
        ...

    def set_state(self, review_id: str, state: str, ts: str) -> None:
        """Sets the state and ``updated_at``. MissingRow if absent."""
        ...

    def of_topic(self, topic: str) -> list[ReviewRow]:
        """By round (then id)."""
        ...

    def newest(
        self, *, task_id: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[ReviewRow]:
        """Newest created first (ties: the higher id); ``open_only``: pending and not
        superseded."""
        ...

    def waiting(self, limit: int) -> list[ReviewRow]:
        """Pending or failed rounds not superseded, newest created first."""
        ...

    def answered(self, limit: int) -> list[ReviewRow]:
        """Approved or rejected rounds, the most recently answered first."""
        ...

    def newest_of_plan(self, task_id: str) -> ReviewRow | None:
        """The newest review of the task with a plan version (what a gate reads)."""
        ...

    def add_response(
        self,
        *,
        review_id: str,
        reviewer: str,
        provider: str,
        model: str | None,
        outcome: str,
        approved: bool | None,
        recommendation: str | None,
        concerns: tuple[str, ...],
        error: str | None,
        raw: tuple[str, ...],
        attempts: int,
        input_tokens: int | None,
        output_tokens: int | None,
        response_path: str,
        ts: str,
    ) -> ReviewResponseRow:
        """Its id is higher than every id before it."""
        ...

    def responses(self, review_id: str) -> list[ReviewResponseRow]:
        """Oldest first."""
        ...

    def count_responses(self, review_id: str, reviewer: str) -> int: ...
