"""Review records: the rounds and responses as the store holds them, and the reads over them.

Light at import: the status file renders :func:`status_section` after every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.core import names
from cairn.core.errors import NotFound
from cairn.core.rules import reviewer_kind

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx
    from cairn.store.contract.reviews import ReviewResponseRow, ReviewRow

SCHEMA_REVIEW = "cairn.review/1"
SCHEMA_REVIEWS = "cairn.reviews/1"
STATES = ("pending", "approved", "rejected", "failed")
STATE_ICONS = {"pending": "⏳", "approved": "✅", "rejected": "❌", "failed": "⚠️"}


# What kind of reviewer gave a verdict, as a gate and a reader see it. The structural checklist only
# checks the plan's shape; a verdict recorded with `cairn review answer` (by hand, or a verdict
# file) is a person's, since a person vouched for it; any other has a model behind it.
KIND_LABELS = {
    "checklist": "structural checklist, not a judgement",
    "model": "model",
    "human": "person",
}


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Response:
    id: int
    review_id: str
    reviewer: str
    provider: str
    model: str | None
    outcome: str  # approved | rejected | failed
    approved: bool | None  # None when the reviewer failed: there is no verdict
    recommendation: str | None
    concerns: tuple[str, ...]
    error: str | None
    raw: tuple[str, ...]
    attempts: int
    input_tokens: int | None
    output_tokens: int | None
    path: str
    created_at: str

    @property
    def kind(self) -> str:
        """checklist | model | human: see :func:`reviewer_kind`."""
        return reviewer_kind(self.provider, self.model)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reviewer": self.reviewer,
            "kind": self.kind,
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "approved": self.approved,
            "recommendation": self.recommendation,
            "concerns": list(self.concerns),
            "error": self.error,
            "raw": list(self.raw),
            "attempts": self.attempts,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "path": self.path,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Review:
    id: str
    task_id: str | None
    topic: str
    round: int
    question: str
    concerns: tuple[str, ...]
    context: tuple[dict[str, Any], ...]
    reviewer: str
    plan_version: int | None
    state: str
    request_path: str
    created_at: str
    updated_at: str
    responses: tuple[Response, ...] = ()

    @property
    def verdict(self) -> Response | None:
        return self.responses[-1] if self.responses else None

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "schema": SCHEMA_REVIEW,
            "id": self.id,
            "task": self.task_id,
            "topic": self.topic,
            "round": self.round,
            "state": self.state,
            "question": self.question,
            "concerns": list(self.concerns),
            "context": list(self.context),
            "reviewer": self.reviewer,
            "plan_version": self.plan_version,
            "request_path": self.request_path,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "verdict": None
            if v is None or v.approved is None
            else {
                "approved": v.approved,
                "recommendation": v.recommendation,
                "concerns": list(v.concerns),
                "reviewer": v.reviewer,
                "kind": v.kind,
                "model": v.model,
            },
            "responses": [r.to_json() for r in self.responses],
        }


# -- reading ---------------------------------------------------------------------------------------
def _response(r: ReviewResponseRow) -> Response:
    return Response(
        id=r.id,
        review_id=r.review_id,
        reviewer=r.reviewer,
        provider=r.provider,
        model=r.model,
        outcome=r.outcome,
        approved=r.approved,
        recommendation=r.recommendation,
        concerns=r.concerns,
        error=r.error,
        raw=r.raw,
        attempts=r.attempts,
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        path=r.response_path,
        created_at=r.created_at,
    )


def row_to_review(tx: Tx, r: ReviewRow) -> Review:
    return Review(
        id=r.id,
        task_id=r.task_id,
        topic=r.topic,
        round=r.round,
        question=r.question,
        concerns=r.concerns,
        context=tuple(dict(c) for c in r.context),
        reviewer=r.reviewer,
        plan_version=r.plan_version,
        state=r.state,
        request_path=r.request_path,
        created_at=r.created_at,
        updated_at=r.updated_at,
        responses=tuple(_response(x) for x in tx.reviews.responses(r.id)),
    )


def get_review(ws: Workspace, review_id: str) -> Review:
    with ws.store.read() as tx:
        row = tx.reviews.get(review_id)
        if row is None:
            raise NotFound(f"no review {names.show(review_id)}; list them with `cairn review list`")
        return row_to_review(tx, row)


def rounds(ws: Workspace, topic_or_id: str) -> list[Review]:
    """Every round of a topic, oldest first; a review id stands for its topic."""
    with ws.store.read() as tx:
        row = tx.reviews.get(topic_or_id)
        rows = tx.reviews.of_topic(row.topic if row else topic_or_id)
        if not rows:
            raise NotFound(
                f"no review or topic {names.show(topic_or_id)}; list reviews with `cairn review list`"
            )
        return [row_to_review(tx, r) for r in rows]


def list_reviews(
    ws: Workspace, *, pending: bool = False, task_id: str | None = None, limit: int = 100
) -> list[Review]:
    """Newest first; ``pending``: the rounds still waiting for an answer."""
    if task_id is not None:
        task_id = ws.resolve_task(task_id)
    with ws.store.read() as tx:
        rows = tx.reviews.newest(task_id=task_id, open_only=pending, limit=limit)
        return [row_to_review(tx, r) for r in rows]


def _brief(r: ReviewRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "task_id": r.task_id,
        "topic": r.topic,
        "round": r.round,
        "reviewer": r.reviewer,
        "state": r.state,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


# -- status ----------------------------------------------------------------------------------------
def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """Open reviews (pending, reviewer failed) and the latest verdicts, for the status file."""
    open_rows = tx.reviews.waiting(5)
    recent = tx.reviews.answered(3)
    if not open_rows and not recent:
        return None
    data = {
        "open": [_brief(r) for r in open_rows],
        "recent": [_brief(r) for r in recent],
    }
    md = ["## Reviews", ""]
    for r in open_rows:
        where = f"{r.id} {r.topic} (round {r.round}, {r.reviewer}, task {r.task_id or '—'})"
        if r.state == "pending":
            md.append(
                f"- ⏳ {where} pending since {r.created_at}: "
                f"`cairn review answer {r.id} --approve|--reject --recommendation ...`"
            )
        else:
            md.append(
                f"- ⚠️ {where}: reviewer failed, no verdict (gate closed); "
                f"`cairn review show {r.id}`"
            )
    for r in recent:
        md.append(
            f"- {STATE_ICONS[r.state]} {r.id} {r.topic} (round {r.round}, "
            f"{r.reviewer}): {r.state} at {r.updated_at}"
        )
    md.append("")
    return "reviews", data, "\n".join(md)


def review_prompt(ws: Workspace, review_id: str) -> str:
    """The prompt a review sent (or would send) to its reviewer."""
    with ws.store.read() as tx:
        row = tx.reviews.get(review_id)
    if row is None:
        raise NotFound(f"no review {names.show(review_id)}; list them with `cairn review list`")
    return row.prompt
