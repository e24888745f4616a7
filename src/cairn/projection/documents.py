"""The review files: ``reviews/requests/*.md`` and ``reviews/responses/*.md``, projected from the store.

A request and each of its responses are fixed once recorded, so their files are a pure rendering of
the stored records. They are written like artifacts: under the projection lock, atomically, and only
through a path check that refuses a symlinked folder leading out of the workspace.

The projector writes them when a review commit is announced (:func:`write_review`). A repair
pass (:func:`repair`: ``cairn refresh``, ``cairn review list``) writes the files that are missing
(a process killed between the commit and the file) and notices hand edits: a file that differs
from its record is kept beside it as ``<name>.edited-<time>.md`` (a review's verdict is what the
reviewer said, not what the file was edited to say), the record's file is put back, and the edit
is journaled once as ``review.hand_edit_kept``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.fsutil import atomic_write, file_lock
from cairn.domain.review_records import Response, Review, get_review, list_reviews, review_prompt
from cairn.projection.reading import NotReadable, read_inside

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

# The projector's path check: the file a projection writes, refused behind a symlinked folder.
Target = Callable[[str], Path]


def render_request(review: Review, prompt: str) -> str:
    head = [
        f"# Review request: {review.topic}",
        "",
        f"**Review**: {review.id} (round {review.round})",
        f"**Task**: {review.task_id or '—'}",
        f"**Reviewer**: {review.reviewer}",
        f"**Requested**: {review.created_at}",
    ]
    if review.plan_version is not None:
        head.append(f"**Plan under review**: {review.task_id} plan v{review.plan_version}")
    if review.context:
        head.append("**Context**:")
        for c in review.context:
            note = (
                f" — truncated: sent {c['sent_tokens']} of {c['tokens']} tokens"
                if c["truncated"]
                else f" ({c['tokens']} tokens)"
            )
            head.append(f"- {c['path']}{note}")
    head += [
        f"**Answer with**: `cairn review answer {review.id} --approve|--reject "
        '--recommendation "..."` (for a person or another agent)',
        "",
        "---",
        "",
    ]
    return "\n".join(head) + prompt


def render_response(review: Review, resp: Response) -> str:
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
    return "\n".join(lines)


def _files(ws: Workspace, review: Review) -> list[tuple[str, bytes]]:
    """(path, content) of every file of ``review``: its request, then its responses."""
    out = [(review.request_path, render_request(review, review_prompt(ws, review.id)).encode())]
    out += [(r.path, render_response(review, r).encode("utf-8")) for r in review.responses]
    return out


def write_review(ws: Workspace, target: Target, review_id: str, path: str) -> None:
    """Write the file ``path`` of ``review_id`` (its request or one response): what the projector
    does when a review commit is announced. The caller holds the projection lock."""
    for rel, data in _files(ws, get_review(ws, review_id)):
        if rel == path:
            atomic_write(target(rel), data)


def project_all(ws: Workspace, *, limit: int = 1000) -> list[str]:
    """:func:`repair` under the projection lock (``cairn review list``)."""
    with file_lock(ws.cairn_dir / "projection.lock"):
        return repair(ws, ws.projector.target, limit=limit)


def repair(ws: Workspace, target: Target, *, limit: int = 1000) -> list[str]:
    """Repair pass over the newest ``limit`` reviews: write missing files, keep hand-edited ones
    aside and put the record's file back. Returns the paths of the edited files kept aside. The
    caller holds the projection lock."""
    from cairn.domain.workspace import now

    kept: list[str] = []
    for review in list_reviews(ws, limit=limit):
        for rel, data in _files(ws, review):
            path = target(rel)
            try:
                current: bytes | None = read_inside(ws.root, str(path))
            except FileNotFoundError:
                current = None
            except NotReadable:
                current = b""  # a link out or a FIFO: set aside below like an edit, never read
            if current == data:
                continue
            if current is not None:
                stamp = now().replace("-", "").replace(":", "").replace(".", "")
                aside = f"{rel[:-3]}.edited-{stamp}.md"
                os.replace(path, target(aside))
                ws.record_event(
                    review.task_id,
                    "review.hand_edit_kept",
                    review=review.id,
                    path=rel,
                    kept_as=aside,
                )
                kept.append(aside)
            atomic_write(path, data)
    return kept
