"""Transcript audit: how context grew, when compaction hit, and whether work was checkpointed first.

Reads Claude Code session transcripts (with their subagent files) and Codex CLI rollouts, streaming
line by line, and produces one ``cairn.audit/1`` document (see docs/json.md), which
:func:`render_text` and :func:`render_html` turn into a terminal table or a self-contained page.

    from cairn.audit import audit_paths, render_text
    doc = audit_paths(["~/.claude/projects/-home-me-proj"])
    print(render_text(doc))
"""

from __future__ import annotations

from cairn.audit.html import render_html
from cairn.audit.render import render_text
from cairn.audit.scan import SCHEMA, audit_paths, discover

__all__ = ["SCHEMA", "audit_paths", "discover", "render_html", "render_text"]
