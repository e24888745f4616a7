"""What a review request is made of: the settings, the checked topic and texts, and the context
files read within a token cap (inside the workspace only)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.core import names
from cairn.core.errors import NotFound, UsageError, ValidationError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.models.verdict import ContextDoc

ENV_REVIEWER = "CAIRN_REVIEWER"
DEFAULT_CONTEXT_TOKENS = 24_000
DEFAULT_TIMEOUT = 600.0
DEFAULT_REPLY_TOKENS = 2_000
# How long the MCP review_request tool waits for a model's verdict before it answers "pending":
# below the minute after which MCP clients commonly give up on a tool call.
DEFAULT_MCP_WAIT = 25.0
MAX_CONTEXT_FILE_BYTES = 20_000_000
# Whose approval may open a gate: anyone's (the structural checklist included), a model's, a person's.
GATE_REQUIRES = ("any", "model", "human")
_TOPIC_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# -- settings --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewSettings:
    default: str
    context_max_tokens: int
    timeout: float
    max_tokens: int
    mcp_wait: float = DEFAULT_MCP_WAIT
    gate_requires: str = "any"  # whose approval opens a gate: any | model | human


def settings(ws: Workspace) -> ReviewSettings:
    from cairn.models import DEFAULT_REVIEWER

    sec = ws.config.section("reviews")
    try:
        out = ReviewSettings(
            default=os.environ.get(ENV_REVIEWER) or str(sec.get("default", DEFAULT_REVIEWER)),
            context_max_tokens=int(sec.get("context_max_tokens", DEFAULT_CONTEXT_TOKENS)),
            timeout=float(sec.get("timeout", DEFAULT_TIMEOUT)),
            max_tokens=int(sec.get("max_tokens", DEFAULT_REPLY_TOKENS)),
            mcp_wait=float(sec.get("mcp_wait", DEFAULT_MCP_WAIT)),
            gate_requires=str(sec.get("gate_requires", "any")),
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"[reviews] in .cairn/config.toml has a value of the wrong type: {exc}"
        ) from exc
    if out.gate_requires not in GATE_REQUIRES:
        raise UsageError(
            f"[reviews] gate_requires = {names.show(out.gate_requires)} in .cairn/config.toml is not "
            'one of "any", "model", "human"'
        )
    # A cap that sends nothing would have a reviewer judge a plan it never saw.
    for key, value, low in (
        ("context_max_tokens", out.context_max_tokens, 1),
        ("timeout", out.timeout, 1),
        ("max_tokens", out.max_tokens, 1),
        ("mcp_wait", out.mcp_wait, 0),
    ):
        if not value >= low:
            raise UsageError(
                f"[reviews] {key} = {value} in .cairn/config.toml is below {low}; raise it "
                "(or remove it for the default)"
            )
    return out


# -- validation ------------------------------------------------------------------------------------
def valid_topic(value: str) -> str:
    if not value or len(value) > names.MAX_NAME or ".." in value or not _TOPIC_RE.fullmatch(value):
        raise ValidationError(
            f"topic {names.show(value)} must be 1-{names.MAX_NAME} letters, digits, '.', '_' or '-' "
            "(e.g. finding4_approach)"
        )
    return value


def valid_text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(f"the {what} is empty; say what the reviewer should answer")
    if "\x00" in value or len(value) > limit:
        raise ValidationError(f"the {what} must be under {limit} characters, without NUL bytes")
    return value


def valid_concerns(values: Iterable[str]) -> list[str]:
    out = [valid_text(c, "concern", 500) for c in values if c and c.strip()]
    if len(out) > 30:
        raise ValidationError("at most 30 concerns; group the rest")
    return out


def day(ts: str) -> str:
    return ts[:10].replace("-", "")


def file_stem(topic: str, round_: int, created_at: str) -> str:
    return f"{day(created_at)}_{topic}" + (f"_r{round_}" if round_ > 1 else "")


# -- context ---------------------------------------------------------------------------------------
def load_context(
    ws: Workspace, paths: Sequence[str], *, max_tokens: int, model: str | None = None
) -> list[ContextDoc]:
    """Read context files (inside the workspace only) within a total token cap.

    Files are taken in order; the one that meets the cap is cut at a token boundary with a marker
    saying how much was sent, and files after it are named with a marker and no content.
    """
    from cairn.core.fsutil import read_bounded
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
        try:
            is_dir, exists = p.is_dir(), p.exists()
        except OSError as exc:  # a 10 KB path: the OS refuses it, and the message must not echo it
            raise ValidationError(
                f"context file {names.show(str(raw))} cannot be looked at ({exc.strerror}); "
                "give a shorter path"
            ) from None
        if is_dir:
            raise ValidationError(
                f"context file {names.show(str(raw))} is a folder; give the files in it one by one "
                "(--context repeats)"
            )
        if not exists:
            raise NotFound(
                f"context file {names.show(str(raw))} does not exist (looked at "
                f"{names.show(str(p), 200)}); give a file path"
            )
        data = read_bounded(
            p, MAX_CONTEXT_FILE_BYTES, f"context file {rel}", "pass a summary or an excerpt instead"
        )
        try:
            text = data.decode("utf-8")
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
