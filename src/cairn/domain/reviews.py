"""Second-model reviews: ask, record the verdict, and gate phases on it.

A review is one round: a topic, a question, stated concerns and context files, sent to a reviewer
(``provider:model``). Its answer is a verdict ``{approved, recommendation, concerns}`` or, when the
reviewer could not give one, a recorded failure that never counts as approval. The structured
records go to the store (:mod:`cairn.domain.review_records`), events to the journal; each commit
is then announced, and the readable tree (:mod:`cairn.projection.documents`) writes the files:
``reviews/requests/<date>_<topic>.md`` and ``reviews/responses/<date>_<topic>_<reviewer>.md``
(later rounds add ``_r<N>``).

A review whose context holds the task's plan is a review *of the plan*; its approval also writes the
plan as approved (a ``plan_approved`` checkpoint), which opens the task's gated phases (the rule:
:mod:`cairn.core.rules`).

Light at import: models and SDKs are imported only when a review is asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cairn.core import names
from cairn.core.errors import NotFound, UsageError, ValidationError
from cairn.core.rules import reviewer_kind
from cairn.domain import journal
from cairn.domain.checkpoints import insert_checkpoint
from cairn.domain.notices import Change
from cairn.domain.review_ask import Asking, Reply
from cairn.domain.review_input import (
    ReviewSettings,
    day,
    file_stem,
    load_context,
    settings,
    valid_concerns,
    valid_text,
    valid_topic,
)
from cairn.domain.review_records import (
    SCHEMA_REVIEW,
    SCHEMA_REVIEWS,
    STATE_ICONS,
    STATES,
    Response,
    Review,
    get_review,
    list_reviews,
    rounds,
    status_section,
)
from cairn.store.contract.reviews import ReviewRow

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.models import Model
    from cairn.models.verdict import Verdict


# -- asking ----------------------------------------------------------------------------------------
def request_review(
    ws: Workspace,
    task_id: str | None,
    topic: str,
    question: str,
    context_files: Sequence[str] = (),
    concerns: Sequence[str] = (),
    reviewer: str | None = None,
    *,
    model: Model | None = None,
) -> Review:
    """Ask a reviewer, record the answer (or the failure), and return the review.

    With a person as reviewer (``human``, ``file``) the review stays pending until
    :func:`answer_review`. Any reply that is not a valid verdict is retried once with a repair
    prompt and then recorded as "reviewer failed", never as approval.
    """
    review, asking = open_review(
        ws, task_id, topic, question, context_files, concerns, reviewer, model=model
    )
    return review if asking is None else record_reply(ws, asking, asking.ask())


def record_reply(ws: Workspace, asking: Asking, reply: Reply) -> Review:
    """Record what the model of ``asking`` replied (refused if the round was answered meanwhile)."""
    return _record(
        ws,
        asking.review.id,
        reviewer=asking.model.provider,
        provider=asking.model.provider,
        model_name=reply.model_name,
        verdict=reply.verdict,
        error=reply.error,
        raws=reply.raws,
        attempts=reply.attempts,
        usage=reply.usage,
        secrets=asking.model.secrets(),
    )


def open_review(
    ws: Workspace,
    task_id: str | None,
    topic: str,
    question: str,
    context_files: Sequence[str] = (),
    concerns: Sequence[str] = (),
    reviewer: str | None = None,
    *,
    model: Model | None = None,
) -> tuple[Review, Asking | None]:
    """Record a pending review round; with a model to ask, also what to ask it (None for a person,
    who answers with :func:`answer_review`)."""
    from cairn.domain.workspace import now
    from cairn.models import resolve
    from cairn.models.verdict import build_prompt

    topic = valid_topic(topic)
    question = valid_text(question, "question", 4000)
    concern_list = valid_concerns(concerns)
    cfg = settings(ws)
    if task_id is not None:
        task_id = ws.task(task_id).id
    if model is None:
        model = resolve(reviewer or cfg.default, ws.config)
    model.check()
    paths = list(context_files)
    plan_path = ws.artifact_path(task_id, "plan") if task_id else None
    if task_id and plan_path:
        ws.projector.reconcile(only=(task_id, "plan"))
        if not paths and ws.has_checkpoint(task_id, "plan"):
            paths = [plan_path]  # the seed's review of a plan: send the plan
    docs = load_context(ws, paths, max_tokens=cfg.context_max_tokens, model=model.name or None)
    plan_version: int | None = None
    ts = now()
    with ws.store.transaction() as tx:
        if plan_path and task_id and any(d.path.casefold() == plan_path.casefold() for d in docs):
            plan = tx.checkpoints.newest(task_id, "plan", content=False)
            plan_version = plan.version if plan else None
        prefix = f"r{day(ts)}-"
        review_id = f"{prefix}{tx.reviews.count_ids(prefix) + 1:03d}"
        round_ = tx.reviews.last_round(topic) + 1
        request_path = f"{ws.config.reviews_dir}/requests/{file_stem(topic, round_, ts)}.md"
        context = tuple(d.to_json() for d in docs)
        prompt = build_prompt(topic, question, concern_list, docs)
        tx.reviews.add(
            ReviewRow(
                id=review_id,
                task_id=task_id,
                topic=topic,
                round=round_,
                question=question,
                concerns=tuple(concern_list),
                context=context,
                reviewer=model.spec,
                plan_version=plan_version,
                state="pending",
                request_path=request_path,
                created_at=ts,
                updated_at=ts,
                prompt=prompt,
            )
        )
        journal.append(
            tx,
            task_id,
            "review.requested",
            ts,
            review=review_id,
            topic=topic,
            round=round_,
            reviewer=model.spec,
            plan_version=plan_version,
            context=list(context),
            concerns=concern_list,
        )
    ws.announce(Change("review", task_id, review=review_id, path=request_path))
    review = get_review(ws, review_id)
    if model.deferred:
        return review, None
    return review, Asking(review, model, prompt, cfg.max_tokens, cfg.timeout)


def answer_review(
    ws: Workspace,
    review_id: str,
    *,
    approved: bool,
    recommendation: str,
    concerns: Sequence[str] = (),
    reviewer: str = "human",
) -> Review:
    """Record a verdict given by a person or another agent for a pending (or failed) review."""
    if not approved and not (recommendation or "").strip():
        raise ValidationError(
            "a rejection needs a recommendation saying what to change in the plan: "
            '--recommendation "..."'
        )
    recommendation = valid_text(recommendation, "recommendation", 8000, required=False)
    names.kind(reviewer, "reviewer name")
    from cairn.models.verdict import Verdict

    verdict = Verdict(approved, recommendation, tuple(valid_concerns(concerns)))
    return _record_given(ws, review_id, reviewer, verdict, raws=[])


def answer_from_file(ws: Workspace, review_id: str, path: str, *, reviewer: str = "file") -> Review:
    """Record the verdict held in a file (a reply saved from a model run by hand, or written by a
    person): read with the same strict parser as a model's reply, and kept raw in the response.
    A file without a valid verdict is refused and nothing is recorded."""
    from cairn.models.verdict import InvalidVerdict, parse_verdict

    names.kind(reviewer, "reviewer name")
    from cairn.core.fsutil import read_bounded

    p = names.readable(ws.root, path, "verdict file")
    data = read_bounded(
        p,
        ws.config.max_checkpoint_bytes,
        f"verdict file {names.show(path)}",
        "give the reply alone",
    )
    text = data.decode("utf-8", errors="replace")
    try:
        verdict = parse_verdict(text)
    except InvalidVerdict as exc:
        raise ValidationError(
            f"{path} holds no valid verdict ({exc}); it needs one JSON object "
            '{"approved": true|false, "recommendation": "...", "concerns": ["..."]}'
        ) from None
    return _record_given(ws, review_id, reviewer, verdict, raws=[text])


def _record_given(
    ws: Workspace, review_id: str, reviewer: str, verdict: Verdict, *, raws: list[str]
) -> Review:
    """A verdict given from outside (a person, another agent, a saved reply): no model, no usage."""
    return _record(
        ws,
        review_id,
        reviewer=reviewer,
        provider=reviewer,
        model_name=None,
        verdict=verdict,
        error=None,
        raws=raws,
        attempts=1,
        usage=(None, None),
        secrets=[],
    )


def _record(
    ws: Workspace,
    review_id: str,
    *,
    reviewer: str,
    provider: str,
    model_name: str | None,
    verdict: Verdict | None,
    error: str | None,
    raws: list[str],
    attempts: int,
    usage: tuple[int | None, int | None],
    secrets: list[str],
) -> Review:
    from cairn.domain.workspace import now
    from cairn.models import redact

    error = redact(error, secrets) if error else None
    raws = [redact(r, secrets) for r in raws]
    outcome = "failed" if verdict is None else ("approved" if verdict.approved else "rejected")
    ts = now()
    wrote_plan = False
    # [reviews] gate_requires: an approval of another kind is recorded, but opens no gate.
    requires = settings(ws).gate_requires
    kind = reviewer_kind(provider, model_name)
    with ws.store.transaction() as tx:
        row = tx.reviews.get(review_id)
        if row is None:
            raise NotFound(
                f"no review {names.show(review_id)}; list them with `cairn review list --pending`"
            )
        if row.state in ("approved", "rejected"):
            raise UsageError(
                f"review {review_id} is already {row.state}; a new verdict needs a new round: "
                f"`cairn review request --task {row.task_id} --topic {row.topic} ...`"
            )
        newer = tx.reviews.newer_round(row.topic, row.round)
        if newer is not None:
            raise UsageError(
                f"review {review_id} (round {row.round} of {row.topic}) was superseded by "
                f"round {newer.round} ({newer.id}); answer that one instead: "
                f"`cairn review answer {newer.id} --approve|--reject --recommendation ...`"
            )
        stem = file_stem(row.topic, row.round, row.created_at)
        who = re.sub(r"[^A-Za-z0-9_-]", "-", reviewer)
        path = f"{ws.config.reviews_dir}/responses/{stem}_{who}.md"
        same = tx.reviews.count_responses(review_id, reviewer)
        if same:
            path = path[:-3] + f"_{same + 1}.md"
        concerns = () if verdict is None else tuple(verdict.concerns)
        tx.reviews.add_response(
            review_id=review_id,
            reviewer=reviewer,
            provider=provider,
            model=model_name,
            outcome=outcome,
            approved=None if verdict is None else verdict.approved,
            recommendation=None if verdict is None else verdict.recommendation,
            concerns=concerns,
            error=error,
            raw=tuple(raws),
            attempts=attempts,
            input_tokens=usage[0],
            output_tokens=usage[1],
            response_path=path,
            ts=ts,
        )
        tx.reviews.set_state(review_id, outcome, ts)
        journal.append(
            tx,
            row.task_id,
            f"review.{outcome}",
            ts,
            review=review_id,
            topic=row.topic,
            round=row.round,
            reviewer=reviewer,
            model=model_name,
            concerns=list(concerns),
            **({"error": error} if error else {}),
            path=path,
        )
        newest_plan_review = tx.reviews.newest_of_plan(row.task_id) if row.task_id else None
        # Only the review the gate reads may replace the approved plan: a late approval of an
        # older plan is kept in the history, not checkpointed over a newer plan.
        if (
            verdict is not None
            and verdict.approved
            and row.task_id is not None
            and row.plan_version is not None
            and newest_plan_review is not None
            and newest_plan_review.id == review_id
            and requires in ("any", kind)
        ):
            plan = tx.checkpoints.get(row.task_id, "plan", row.plan_version)
            if plan is not None and plan.content is not None:
                text = _approved_plan(row, reviewer, model_name, verdict, plan.content)
                insert_checkpoint(
                    ws,
                    tx,
                    row.task_id,
                    "plan_approved",
                    text,
                    text.encode("utf-8"),
                    (),
                    None,
                    "review",
                    ts,
                )
                wrote_plan = True
    if wrote_plan and row.task_id:
        ws.announce(Change("checkpoint", row.task_id, "plan_approved"))
    ws.announce(Change("review", row.task_id, review=review_id, path=path))
    return get_review(ws, review_id)


def _approved_plan(
    row: ReviewRow, reviewer: str, model: str | None, verdict: Verdict, plan: str
) -> str:
    who = reviewer + (f" ({model})" if model else "")
    lines = [
        f"# {row.task_id} Approved Plan",
        "",
        f"**Reviewer**: {who}, review {row.id} (topic {row.topic}, round {row.round})",
        f"**Recommendation**: {verdict.recommendation or '—'}",
        f"**Plan version**: v{row.plan_version}",
    ]
    if verdict.concerns:
        lines += ["**Concerns**:"] + [f"- {c}" for c in verdict.concerns]
    lines += ["", "---", "", plan.rstrip("\n"), ""]
    return "\n".join(lines)


__all__ = [
    "SCHEMA_REVIEW",
    "SCHEMA_REVIEWS",
    "STATES",
    "STATE_ICONS",
    "Asking",
    "Reply",
    "Response",
    "Review",
    "ReviewSettings",
    "answer_from_file",
    "answer_review",
    "get_review",
    "list_reviews",
    "load_context",
    "open_review",
    "record_reply",
    "request_review",
    "rounds",
    "settings",
    "status_section",
]
