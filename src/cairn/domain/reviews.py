"""Second-model reviews: ask, record the verdict, and gate phases on it.

A review is one round: a topic, a question, stated concerns and context files, sent to a reviewer
(``provider:model``). Its answer is a verdict ``{approved, recommendation, concerns}`` or, when the
reviewer could not give one, a recorded failure that never counts as approval. The request goes to
``reviews/requests/<date>_<topic>.md``, each answer to ``reviews/responses/<date>_<topic>_<reviewer>.md``
(later rounds add ``_r<N>``), the structured records to the store, and events to the journal.

A review whose context holds the task's plan is a review *of the plan*; its approval also writes the
plan as approved (a ``plan_approved`` checkpoint), which opens the task's gated phases.

Light at import: the status file renders :func:`status_section` after every command, so models and
SDKs are imported only when a review is asked.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.core import names
from cairn.core.errors import CairnError, NotFound, UsageError, ValidationError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.models import Model
    from cairn.models.verdict import ContextDoc, Verdict
    from cairn.store import Row, Tx

SCHEMA_REVIEW = "cairn.review/1"
SCHEMA_REVIEWS = "cairn.reviews/1"
STATES = ("pending", "approved", "rejected", "failed")
STATE_ICONS = {"pending": "⏳", "approved": "✅", "rejected": "❌", "failed": "⚠️"}
ENV_REVIEWER = "CAIRN_REVIEWER"
DEFAULT_CONTEXT_TOKENS = 24_000
DEFAULT_TIMEOUT = 600.0
DEFAULT_REPLY_TOKENS = 2_000
MAX_CONTEXT_FILE_BYTES = 20_000_000
_TOPIC_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reviewer": self.reviewer,
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
                "model": v.model,
            },
            "responses": [r.to_json() for r in self.responses],
        }


# -- settings --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewSettings:
    default: str
    context_max_tokens: int
    timeout: float
    max_tokens: int


def settings(ws: Workspace) -> ReviewSettings:
    from cairn.models import DEFAULT_REVIEWER

    sec = ws.config.section("reviews")
    try:
        out = ReviewSettings(
            default=os.environ.get(ENV_REVIEWER) or str(sec.get("default", DEFAULT_REVIEWER)),
            context_max_tokens=int(sec.get("context_max_tokens", DEFAULT_CONTEXT_TOKENS)),
            timeout=float(sec.get("timeout", DEFAULT_TIMEOUT)),
            max_tokens=int(sec.get("max_tokens", DEFAULT_REPLY_TOKENS)),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"[reviews] in .cairn/config.toml has a value of the wrong type: {exc}"
        ) from exc
    # A cap that sends nothing would have a reviewer judge a plan it never saw.
    for key, value, low in (
        ("context_max_tokens", out.context_max_tokens, 1),
        ("timeout", out.timeout, 1),
        ("max_tokens", out.max_tokens, 1),
    ):
        if not value >= low:
            raise UsageError(
                f"[reviews] {key} = {value} in .cairn/config.toml is below {low}; raise it "
                "(or remove it for the default)"
            )
    return out


# -- validation ------------------------------------------------------------------------------------
def _topic(value: str) -> str:
    if not value or len(value) > names.MAX_NAME or ".." in value or not _TOPIC_RE.fullmatch(value):
        raise ValidationError(
            f"topic {value!r} must be 1-{names.MAX_NAME} letters, digits, '.', '_' or '-' "
            "(e.g. finding4_approach)"
        )
    return value


def _text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"the {what} is empty; say what the reviewer should answer")
    if "\x00" in value or len(value) > limit:
        raise ValidationError(f"the {what} must be under {limit} characters, without NUL bytes")
    return value


def _concerns(values: Iterable[str]) -> list[str]:
    out = [_text(c, "concern", 500) for c in values if c and c.strip()]
    if len(out) > 30:
        raise ValidationError("at most 30 concerns; group the rest")
    return out


def _date(ts: str) -> str:
    return ts[:10].replace("-", "")


def _file_stem(topic: str, round_: int, created_at: str) -> str:
    return f"{_date(created_at)}_{topic}" + (f"_r{round_}" if round_ > 1 else "")


# -- context ---------------------------------------------------------------------------------------
def load_context(
    ws: Workspace, paths: Sequence[str], *, max_tokens: int, model: str | None = None
) -> list[ContextDoc]:
    """Read context files (inside the workspace only) within a total token cap.

    Files are taken in order; the one that meets the cap is cut at a token boundary with a marker
    saying how much was sent, and files after it are named with a marker and no content.
    """
    from cairn.core.tokens import count, truncate
    from cairn.models.verdict import ContextDoc

    root = ws.root.resolve()
    docs: list[ContextDoc] = []
    remaining = max_tokens
    seen: set[str] = set()
    for raw in paths:
        p = names.inside(ws.root, raw, "context file")
        rel = p.relative_to(root).as_posix()
        if rel in seen:
            continue
        seen.add(rel)
        if p.is_dir():
            raise ValidationError(
                f"context file {raw!r} is a folder; give the files in it one by one "
                "(--context repeats)"
            )
        if not p.is_file():
            raise NotFound(f"context file {raw!r} does not exist (looked at {p}); give a file path")
        size = p.stat().st_size
        if size > MAX_CONTEXT_FILE_BYTES:
            raise ValidationError(
                f"context file {rel} is {size:,} bytes; pass a summary or an excerpt instead"
            )
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"context file {rel} is not UTF-8 text (byte offset {exc.start}); pass text files"
            ) from exc
        if remaining <= 0:
            total = count(text, model).tokens
            marker = (
                f"[cairn did not send {rel} ({total} tokens): the context cap of {max_tokens} "
                "tokens ([reviews] context_max_tokens) was used up by the files before it]"
            )
            docs.append(ContextDoc(rel, marker, total, 0, True))
            continue
        kept_text, total, kept = truncate(text, remaining, model)
        if kept < total:
            kept_text = (
                kept_text.rstrip("\n")
                + f"\n[cairn cut {rel} here: sent {kept} of its {total} tokens, as the context cap "
                f"is {max_tokens} tokens ([reviews] context_max_tokens); the rest was not sent]"
            )
            docs.append(ContextDoc(rel, kept_text, total, kept, True))
            remaining = 0  # the cap is met: files after the cut are named, not sent
        else:
            docs.append(ContextDoc(rel, text, total, total, False))
            remaining -= total
    return docs


# -- reading ---------------------------------------------------------------------------------------
def _row_to_response(r: Row) -> Response:
    return Response(
        id=r["id"],
        review_id=r["review_id"],
        reviewer=r["reviewer"],
        provider=r["provider"],
        model=r["model"],
        outcome=r["outcome"],
        approved=None if r["approved"] is None else bool(r["approved"]),
        recommendation=r["recommendation"],
        concerns=tuple(json.loads(r["concerns"])),
        error=r["error"],
        raw=tuple(json.loads(r["raw"])) if r["raw"] else (),
        attempts=r["attempts"],
        input_tokens=r["input_tokens"],
        output_tokens=r["output_tokens"],
        path=r["response_path"],
        created_at=r["created_at"],
    )


def _row_to_review(tx: Tx, r: Row) -> Review:
    responses = tuple(
        _row_to_response(x)
        for x in tx.execute(
            "SELECT * FROM review_responses WHERE review_id = ? ORDER BY id", (r["id"],)
        )
    )
    return Review(
        id=r["id"],
        task_id=r["task_id"],
        topic=r["topic"],
        round=r["round"],
        question=r["question"],
        concerns=tuple(json.loads(r["concerns"])),
        context=tuple(json.loads(r["context"])),
        reviewer=r["reviewer"],
        plan_version=r["plan_version"],
        state=r["state"],
        request_path=r["request_path"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        responses=responses,
    )


def get_review(ws: Workspace, review_id: str) -> Review:
    with ws.store.read() as tx:
        row = tx.one("SELECT * FROM reviews WHERE id = ?", (review_id,))
        if row is None:
            raise NotFound(f"no review {review_id!r}; list them with `cairn review list`")
        return _row_to_review(tx, row)


def rounds(ws: Workspace, topic_or_id: str) -> list[Review]:
    """Every round of a topic, oldest first; a review id stands for its topic."""
    with ws.store.read() as tx:
        row = tx.one("SELECT topic FROM reviews WHERE id = ?", (topic_or_id,))
        topic = row["topic"] if row else topic_or_id
        rows = tx.execute("SELECT * FROM reviews WHERE topic = ? ORDER BY round, id", (topic,))
        if not rows:
            raise NotFound(
                f"no review or topic {topic_or_id!r}; list reviews with `cairn review list`"
            )
        return [_row_to_review(tx, r) for r in rows]


# A round waits for an answer only while no newer round of its topic exists.
_NOT_SUPERSEDED = (
    "NOT EXISTS (SELECT 1 FROM reviews AS n "
    "WHERE n.topic = reviews.topic AND n.round > reviews.round)"
)


def list_reviews(
    ws: Workspace, *, pending: bool = False, task_id: str | None = None, limit: int = 100
) -> list[Review]:
    sql = "SELECT * FROM reviews WHERE 1 = 1"
    params: list[Any] = []
    with ws.store.read() as tx:
        if pending:
            sql += " AND state = 'pending' AND " + _NOT_SUPERSEDED
        if task_id is not None:
            task_id = ws._task_row(tx, task_id)["id"]
            sql += " AND task_id = ?"
            params.append(task_id)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(limit)
        return [_row_to_review(tx, r) for r in tx.execute(sql, params)]


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
    from cairn.domain.workspace import now
    from cairn.models import resolve
    from cairn.models.verdict import SYSTEM_PROMPT, build_prompt

    topic = _topic(topic)
    question = _text(question, "question", 4000)
    concern_list = _concerns(concerns)
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
        if plan_path and any(d.path.casefold() == plan_path.casefold() for d in docs):
            plan_version = tx.scalar(
                "SELECT max(version) FROM checkpoints WHERE task_id = ? AND kind = 'plan'",
                (task_id,),
            )
        prefix = f"r{_date(ts)}-"
        n = tx.scalar("SELECT count(*) FROM reviews WHERE id LIKE ?", (prefix + "%",)) or 0
        review_id = f"{prefix}{n + 1:03d}"
        round_ = (tx.scalar("SELECT max(round) FROM reviews WHERE topic = ?", (topic,)) or 0) + 1
        request_path = f"{ws.config.reviews_dir}/requests/{_file_stem(topic, round_, ts)}.md"
        prompt = build_prompt(topic, question, concern_list, docs)
        tx.execute(
            "INSERT INTO reviews (id, task_id, topic, round, question, concerns, context, reviewer, "
            "plan_version, prompt, state, request_path, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            (
                review_id,
                task_id,
                topic,
                round_,
                question,
                json.dumps(concern_list, ensure_ascii=False),
                json.dumps([d.to_json() for d in docs]),
                model.spec,
                plan_version,
                prompt,
                request_path,
                ts,
                ts,
            ),
        )
        ws._event(
            tx,
            task_id,
            "review.requested",
            ts,
            review=review_id,
            topic=topic,
            round=round_,
            reviewer=model.spec,
            plan_version=plan_version,
            context=[d.to_json() for d in docs],
            concerns=concern_list,
        )
    _write_request(ws, review_id)
    if model.deferred:
        ws.projector.after_change()
        return get_review(ws, review_id)
    verdict, error, raws, attempts, usage, model_name = _ask(
        model, prompt, SYSTEM_PROMPT, cfg.max_tokens, cfg.timeout
    )
    return _record(
        ws,
        review_id,
        reviewer=model.provider,
        provider=model.provider,
        model_name=model_name,
        verdict=verdict,
        error=error,
        raws=raws,
        attempts=attempts,
        usage=usage,
        secrets=model.secrets(),
    )


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
    recommendation = _text(recommendation, "recommendation", 8000, required=False)
    names.kind(reviewer, "reviewer name")
    from cairn.models.verdict import Verdict

    verdict = Verdict(approved, recommendation, tuple(_concerns(concerns)))
    return _record_given(ws, review_id, reviewer, verdict, raws=[])


def answer_from_file(ws: Workspace, review_id: str, path: str, *, reviewer: str = "file") -> Review:
    """Record the verdict held in a file (a reply saved from a model run by hand, or written by a
    person): read with the same strict parser as a model's reply, and kept raw in the response.
    A file without a valid verdict is refused and nothing is recorded."""
    from cairn.models.verdict import InvalidVerdict, parse_verdict

    names.kind(reviewer, "reviewer name")
    p = names.inside(ws.root, path, "verdict file")
    if not p.is_file():
        raise NotFound(f"verdict file {path!r} does not exist; give the file with the reply")
    text = p.read_text(encoding="utf-8", errors="replace")
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
    with ws.store.transaction() as tx:
        row = tx.one("SELECT * FROM reviews WHERE id = ?", (review_id,))
        if row is None:
            raise NotFound(f"no review {review_id!r}; list them with `cairn review list --pending`")
        if row["state"] in ("approved", "rejected"):
            raise UsageError(
                f"review {review_id} is already {row['state']}; a new verdict needs a new round: "
                f"`cairn review request --task {row['task_id']} --topic {row['topic']} ...`"
            )
        newer = tx.one(
            "SELECT id, round FROM reviews WHERE topic = ? AND round > ? ORDER BY round DESC LIMIT 1",
            (row["topic"], row["round"]),
        )
        if newer is not None:
            raise UsageError(
                f"review {review_id} (round {row['round']} of {row['topic']}) was superseded by "
                f"round {newer['round']} ({newer['id']}); answer that one instead: "
                f"`cairn review answer {newer['id']} --approve|--reject --recommendation ...`"
            )
        stem = _file_stem(row["topic"], row["round"], row["created_at"])
        who = re.sub(r"[^A-Za-z0-9_-]", "-", reviewer)
        path = f"{ws.config.reviews_dir}/responses/{stem}_{who}.md"
        same = tx.scalar(
            "SELECT count(*) FROM review_responses WHERE review_id = ? AND reviewer = ?",
            (review_id, reviewer),
        )
        if same:
            path = path[:-3] + f"_{same + 1}.md"
        tx.insert(
            "INSERT INTO review_responses (review_id, reviewer, provider, model, outcome, approved, "
            "recommendation, concerns, error, raw, attempts, input_tokens, output_tokens, "
            "response_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                review_id,
                reviewer,
                provider,
                model_name,
                outcome,
                None if verdict is None else int(verdict.approved),
                None if verdict is None else verdict.recommendation,
                json.dumps([] if verdict is None else list(verdict.concerns), ensure_ascii=False),
                error,
                json.dumps(raws, ensure_ascii=False),
                attempts,
                usage[0],
                usage[1],
                path,
                ts,
            ),
        )
        tx.execute(
            "UPDATE reviews SET state = ?, updated_at = ? WHERE id = ?", (outcome, ts, review_id)
        )
        ws._event(
            tx,
            row["task_id"],
            f"review.{outcome}",
            ts,
            review=review_id,
            topic=row["topic"],
            round=row["round"],
            reviewer=reviewer,
            model=model_name,
            concerns=[] if verdict is None else list(verdict.concerns),
            **({"error": error} if error else {}),
            path=path,
        )
        newest_plan_review = tx.scalar(
            "SELECT id FROM reviews WHERE task_id = ? AND plan_version IS NOT NULL "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (row["task_id"],),
        )
        # Only the review the gate reads may replace the approved plan: a late approval of an
        # older plan is kept in the history, not checkpointed over a newer plan.
        if (
            verdict is not None
            and verdict.approved
            and row["plan_version"] is not None
            and newest_plan_review == review_id
        ):
            plan = tx.one(
                "SELECT content FROM checkpoints WHERE task_id = ? AND kind = 'plan' AND version = ?",
                (row["task_id"], row["plan_version"]),
            )
            if plan is not None:
                text = _approved_plan(row, reviewer, model_name, verdict, plan["content"])
                ws._insert_checkpoint(
                    tx,
                    row["task_id"],
                    "plan_approved",
                    text,
                    text.encode("utf-8"),
                    (),
                    None,
                    "review",
                    ts,
                )
                wrote_plan = True
    _write_response(ws, review_id, path)
    if wrote_plan:
        ws.projector.after_checkpoint(row["task_id"], "plan_approved")
    else:
        ws.projector.after_change()
    return get_review(ws, review_id)


def _approved_plan(row: Row, reviewer: str, model: str | None, verdict: Verdict, plan: str) -> str:
    who = reviewer + (f" ({model})" if model else "")
    lines = [
        f"# {row['task_id']} Approved Plan",
        "",
        f"**Reviewer**: {who}, review {row['id']} (topic {row['topic']}, round {row['round']})",
        f"**Recommendation**: {verdict.recommendation or '—'}",
        f"**Plan version**: v{row['plan_version']}",
    ]
    if verdict.concerns:
        lines += ["**Concerns**:"] + [f"- {c}" for c in verdict.concerns]
    lines += ["", "---", "", plan.rstrip("\n"), ""]
    return "\n".join(lines)


# -- files -----------------------------------------------------------------------------------------
def _write_request(ws: Workspace, review_id: str) -> None:
    from cairn.core.fsutil import atomic_write

    with ws.store.read() as tx:
        row = tx.one("SELECT * FROM reviews WHERE id = ?", (review_id,))
    assert row is not None
    context = json.loads(row["context"])
    head = [
        f"# Review request: {row['topic']}",
        "",
        f"**Review**: {row['id']} (round {row['round']})",
        f"**Task**: {row['task_id'] or '—'}",
        f"**Reviewer**: {row['reviewer']}",
        f"**Requested**: {row['created_at']}",
    ]
    if row["plan_version"] is not None:
        head.append(f"**Plan under review**: {row['task_id']} plan v{row['plan_version']}")
    if context:
        head.append("**Context**:")
        for c in context:
            note = (
                f" — truncated: sent {c['sent_tokens']} of {c['tokens']} tokens"
                if c["truncated"]
                else f" ({c['tokens']} tokens)"
            )
            head.append(f"- {c['path']}{note}")
    head += [
        f"**Answer with**: `cairn review answer {row['id']} --approve|--reject "
        '--recommendation "..."` (for a person or another agent)',
        "",
        "---",
        "",
    ]
    atomic_write(ws.root / row["request_path"], ("\n".join(head) + row["prompt"]).encode("utf-8"))


def _write_response(ws: Workspace, review_id: str, path: str) -> None:
    from cairn.core.fsutil import atomic_write

    review = get_review(ws, review_id)
    resp = next(r for r in reversed(review.responses) if r.path == path)
    if resp.approved is None:
        verdict = "REVIEWER FAILED: no verdict; this is not an approval and the gate stays closed"
    else:
        verdict = "APPROVED" if resp.approved else "NOT APPROVED"
    lines = [
        f"# Review response: {review.topic} (round {review.round})",
        "",
        f"**Review**: {review.id}",
        f"**Request**: {review.request_path}",
        f"**Reviewer**: {resp.reviewer}" + (f" (model {resp.model})" if resp.model else ""),
        f"**Answered**: {resp.created_at}",
        f"**Verdict**: {verdict}",
    ]
    if resp.approved is not None:
        lines.append(f"**Recommendation**: {resp.recommendation or '—'}")
        lines.append("**Concerns**:" + ("" if resp.concerns else " none"))
        lines += [f"- {c}" for c in resp.concerns]
    if resp.error:
        lines.append(f"**Error**: {resp.error}")
    if resp.input_tokens is not None or resp.output_tokens is not None:
        lines.append(f"**Tokens**: {resp.input_tokens} in, {resp.output_tokens} out")
    verdict_json = json.dumps(
        {
            "approved": resp.approved,
            "recommendation": resp.recommendation,
            "concerns": list(resp.concerns),
            "reviewer": resp.reviewer,
            "model": resp.model,
        },
        ensure_ascii=False,
        indent=2,
    )
    lines += ["", "## Verdict (structured)", "", "```json", verdict_json, "```", ""]
    for i, raw in enumerate(resp.raw, 1):
        title = "Raw reply" if len(resp.raw) == 1 else f"Raw reply {i} of {len(resp.raw)}"
        fence = "````" if "```" in raw else "```"
        lines += [f"## {title}", "", fence, raw.rstrip("\n"), fence, ""]
    atomic_write(ws.root / path, "\n".join(lines).encode("utf-8"))


# -- status ----------------------------------------------------------------------------------------
def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """Open reviews (pending, reviewer failed) and the latest verdicts, for the status file."""
    open_rows = tx.execute(
        "SELECT id, task_id, topic, round, reviewer, state, created_at, updated_at FROM reviews "
        f"WHERE state IN ('pending', 'failed') AND {_NOT_SUPERSEDED} ORDER BY created_at DESC LIMIT 5"
    )
    recent = tx.execute(
        "SELECT id, task_id, topic, round, reviewer, state, created_at, updated_at FROM reviews "
        "WHERE state IN ('approved', 'rejected') ORDER BY updated_at DESC LIMIT 3"
    )
    if not open_rows and not recent:
        return None
    data = {
        "open": [dict(r) for r in open_rows],
        "recent": [dict(r) for r in recent],
    }
    md = ["## Reviews", ""]
    for r in open_rows:
        where = f"{r['id']} {r['topic']} (round {r['round']}, {r['reviewer']}, task {r['task_id'] or '—'})"
        if r["state"] == "pending":
            md.append(
                f"- ⏳ {where} pending since {r['created_at']}: "
                f"`cairn review answer {r['id']} --approve|--reject --recommendation ...`"
            )
        else:
            md.append(
                f"- ⚠️ {where}: reviewer failed, no verdict (gate closed); "
                f"`cairn review show {r['id']}`"
            )
    for r in recent:
        md.append(
            f"- {STATE_ICONS[r['state']]} {r['id']} {r['topic']} (round {r['round']}, "
            f"{r['reviewer']}): {r['state']} at {r['updated_at']}"
        )
    md.append("")
    return "reviews", data, "\n".join(md)
