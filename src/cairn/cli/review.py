"""Review commands: request, show, list, answer."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cairn.cli.common import add_json, emit_json, open_ws, positive_int

if TYPE_CHECKING:
    from cairn.domain.reviews import Review
    from cairn.domain.workspace import Workspace

ORDER = 30
SCHEMA_ROUNDS = "cairn.review_rounds/1"


def register(sub: Any) -> None:
    review = sub.add_parser(
        "review", help="ask a second model (or a person) to review a plan; gate phases on it"
    ).add_subparsers(dest="review_cmd", metavar="ACTION", required=True)

    p = review.add_parser("request", help="ask a reviewer and record its verdict")
    p.add_argument("--task", help="the task (default: the one active task)")
    p.add_argument("--topic", required=True, help="e.g. finding4_approach; rounds share a topic")
    p.add_argument("--question", required=True, help="what the reviewer is to judge")
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="FILE",
        help="a file sent by content (repeatable; default: the task's plan)",
    )
    p.add_argument("--concern", action="append", default=[], metavar="TEXT", help="repeatable")
    p.add_argument(
        "--reviewer",
        metavar="PROVIDER:MODEL",
        help="openai:MODEL, anthropic:MODEL, codex[:MODEL], claude[:MODEL], human, file, "
        "checklist (default: [reviews] default in .cairn/config.toml, else checklist)",
    )
    add_json(p)
    p.set_defaults(func=cmd_request)

    p = review.add_parser("show", help="TOPIC_OR_ID: every round of a topic, with verdicts")
    p.add_argument("topic_or_id", help="a review id (r20261128-002) or a topic")
    add_json(p)
    p.set_defaults(func=cmd_show)

    p = review.add_parser("list", help="reviews, newest first")
    p.add_argument("--pending", action="store_true", help="only those waiting for an answer")
    p.add_argument("--task", help="only this task's reviews")
    p.add_argument("--limit", type=positive_int, default=50, help="the newest N reviews (50)")
    add_json(p)
    p.set_defaults(func=cmd_list)

    p = review.add_parser("answer", help="REVIEW_ID: give the verdict (a person or another agent)")
    p.add_argument("review_id", help="the pending review, e.g. r20261128-002")
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true", help="approve: opens gated phases")
    verdict.add_argument(
        "--reject", action="store_true", help="reject (with --recommendation: what to change)"
    )
    verdict.add_argument(
        "--verdict-file",
        metavar="FILE",
        help="read the verdict JSON from a file (e.g. a reply saved from a model run by hand)",
    )
    p.add_argument("--recommendation", default="", help="required with --reject")
    p.add_argument(
        "--concern", action="append", default=[], metavar="TEXT", help="a concern (repeatable)"
    )
    p.add_argument("--reviewer", help="who answers (default: human, or file with --verdict-file)")
    add_json(p)
    p.set_defaults(func=cmd_answer)


def _print_review(review: Review, *, full: bool = False) -> None:
    from cairn.domain.reviews import STATE_ICONS

    state = "reviewer failed" if review.state == "failed" else review.state
    print(
        f"{STATE_ICONS[review.state]} {review.id}  {review.topic} round {review.round}  "
        f"task {review.task_id or '—'}  reviewer {review.reviewer}: {state}"
    )
    if full:
        print(f"   question: {review.question}")
        for c in review.concerns:
            print(f"   stated concern: {c}")
        for doc in review.context:
            cut = f", truncated to {doc['sent_tokens']}" if doc["truncated"] else ""
            print(f"   context: {doc['path']} ({doc['tokens']} tokens{cut})")
        if review.plan_version is not None:
            print(f"   plan under review: v{review.plan_version}")
    print(f"   request:  {review.request_path}")
    for r in review.responses:
        print(f"   response: {r.path}  ({r.reviewer}{', ' + r.model if r.model else ''})")
        if r.approved is None:
            print(f"   reviewer failed, no verdict (not an approval): {r.error}")
        else:
            verdict = "approved" if r.approved else "not approved"
            print(f"   verdict: {verdict} by {_kind_label(r.kind)}")
            if r.recommendation:
                print(f"   recommendation: {r.recommendation}")
            for c in r.concerns:
                print(f"   - {c}")
    if review.state == "pending":
        print(
            f"   waiting: answer with `cairn review answer {review.id} --approve|--reject "
            '--recommendation "..."`'
        )


def _kind_label(kind: str) -> str:
    from cairn.domain.review_records import KIND_LABELS

    return "a " + KIND_LABELS.get(kind, kind)


def _print_approval(ws: Workspace, review: Review) -> None:
    """What an approval did to the task's gate: opened it, or not ([reviews] gate_requires)."""
    from cairn.domain.gates import gate_state

    task = review.task_id
    if review.state != "approved" or review.plan_version is None or task is None:
        return
    with ws.store.read() as tx:
        gs = gate_state(tx, task)
    v = review.verdict
    by = _kind_label(v.kind) if v is not None else "a reviewer"
    if gs.state == "insufficient":
        print(
            f"   plan v{review.plan_version} approved by {by}, but [reviews] gate_requires asks "
            "for another reviewer's approval: gated phases stay closed"
        )
    elif gs.open and gs.review is not None and gs.review.id == review.id:
        print(
            f"   plan v{review.plan_version} approved by {by}: "
            f"{ws.artifact_path(task, 'plan_approved')}; gated phases may start"
        )


def cmd_request(args: argparse.Namespace) -> int:
    from cairn.domain.reviews import request_review

    ws = open_ws(args)
    task = ws.resolve_task(args.task)
    review = request_review(
        ws, task, args.topic, args.question, args.context, args.concern, args.reviewer
    )
    if args.json:
        emit_json(review.to_json())
    else:
        _print_review(review)
        _print_approval(ws, review)
        if review.state == "rejected":
            print(
                f"   next: revise the plan (`cairn checkpoint write {task} plan`), then request "
                f"round {review.round + 1} with the same --topic"
            )
    if review.state == "failed":
        sys.stderr.write(
            f"cairn: the reviewer failed on {review.id}; no verdict was recorded and any gate on "
            "this plan stays closed\n"
        )
        return 1
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from cairn.domain.gates import gate_state
    from cairn.domain.reviews import rounds

    ws = open_ws(args)
    found = rounds(ws, args.topic_or_id)
    tasks = sorted({r.task_id for r in found if r.task_id})
    gates: dict[str, str] = {}
    with ws.store.read() as tx:
        for t in tasks:
            gates[t] = gate_state(tx, t).state
    if args.json:
        emit_json(
            {
                "schema": SCHEMA_ROUNDS,
                "topic": found[0].topic,
                "rounds": [r.to_json() for r in found],
                "plan_gate": gates,
            }
        )
        return 0
    print(f"Topic {found[0].topic}: {len(found)} round(s)")
    for r in found:
        _print_review(r, full=True)
    for t, state in gates.items():
        print(f"Plan gate of {t}: {'open' if state == 'approved' else 'closed'} ({state})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from cairn.domain.reviews import SCHEMA_REVIEWS, list_reviews
    from cairn.projection.documents import project_all

    ws = open_ws(args)
    # The review files are repaired here too (missing ones written, hand edits kept aside), as
    # in `cairn refresh`: a list is where a person looks for them.
    for aside in project_all(ws, limit=100):
        sys.stderr.write(f"cairn: a review file was edited by hand; the edit is kept as {aside}\n")
    found = list_reviews(ws, pending=args.pending, task_id=args.task, limit=args.limit)
    if args.json:
        emit_json({"schema": SCHEMA_REVIEWS, "reviews": [r.to_json() for r in found]})
        return 0
    if not found:
        print(
            "No reviews" + (" pending." if args.pending else ". Ask with `cairn review request`.")
        )
    for r in found:
        state = "failed" if r.state == "failed" else r.state
        v = r.verdict
        note = " (structural checklist, not a judgement)" if v and v.kind == "checklist" else ""
        print(
            f"{r.id:<15} {state:<9} {r.topic:<28} r{r.round:<3} {r.task_id or '—':<16} "
            f"{r.reviewer}{note}"
        )
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    from cairn.domain.reviews import answer_from_file, answer_review

    ws = open_ws(args)
    if args.verdict_file:
        review = answer_from_file(
            ws, args.review_id, args.verdict_file, reviewer=args.reviewer or "file"
        )
    else:
        review = answer_review(
            ws,
            args.review_id,
            approved=bool(args.approve),
            recommendation=args.recommendation,
            concerns=args.concern,
            reviewer=args.reviewer or "human",
        )
    if args.json:
        emit_json(review.to_json())
    else:
        _print_review(review)
        _print_approval(ws, review)
    return 0
