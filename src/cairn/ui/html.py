"""The dashboard's markup helpers: the one escaping function every value goes through, links,
durations, and the page shell.

Nothing reaches the page unescaped: values are masked for secrets (the environment's keys and
tokens, and the dashboard's own token), then HTML-escaped, quotes included; attributes are always
double-quoted. Scripts are never inline (the Content-Security-Policy forbids it), so an escaped
value can at worst be shown, never run.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

_SECRETS: list[str] = []

VIEWS = (
    ("overview", "Tasks"),
    ("compactions", "Compactions"),
    ("budget", "Budget"),
    ("reviews", "Reviews"),
    ("runs", "Workers & subagents"),
)


def set_secrets(values: list[str]) -> None:
    """The values never to show (longest first, so a key's prefix does not hide half of it)."""
    _SECRETS[:] = sorted({v for v in values if v and len(v) >= 8}, key=len, reverse=True)


def e(value: Any) -> str:
    """``value`` as text safe anywhere in the page: secrets masked, then HTML-escaped."""
    text = "" if value is None else str(value)
    if _SECRETS:
        from cairn.models.base import redact

        text = redact(text, _SECRETS)
    return escape(text, quote=True)


def href(view: str, **params: Any) -> str:
    """A link to a view, escaped for an attribute."""
    q = {"view": view, **{k: v for k, v in params.items() if v is not None}}
    return e("/?" + urlencode(q))


def link(text: Any, view: str, **params: Any) -> str:
    return f'<a href="{href(view, **params)}">{e(text)}</a>'


def dur(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def ts(value: str | None) -> str:
    """An ISO time shown short (date and time to the second), the full value on hover."""
    if not value:
        return "—"
    short = value.replace("T", " ")[:19]
    return f'<time datetime="{e(value)}" title="{e(value)}">{e(short)}</time>'


def state(value: str | None) -> str:
    """A state as a coloured badge (the class is from a fixed set, the text escaped)."""
    known = {
        "done",
        "active",
        "running",
        "pending",
        "failed",
        "crashed",
        "blocked",
        "paused",
        "approved",
        "rejected",
        "timeout",
        "partial",
        "open",
        "closed",
    }
    v = value or "?"
    cls = v if v in known else "other"
    return f'<span class="badge {cls}">{e(v)}</span>'


def table(head: list[str], rows: list[list[str]], *, cls: str = "") -> str:
    """``head`` are plain labels (escaped here); cells are markup made with these helpers."""
    if not rows:
        return '<p class="muted">None yet.</p>'
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{e(cls)}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def pre(text: Any, *, cls: str = "") -> str:
    return f'<pre class="{e(cls)}">{e(text)}</pre>'


def pager(view: str, page: int, pages: int | None, more: bool = False, **params: Any) -> str:
    last = pages if pages is not None else (page + 1 if more else page)
    if last <= 1:
        return ""
    parts = ['<nav class="pager">']
    if page > 1:
        parts.append(f'<a href="{href(view, page=page - 1, **params)}" rel="prev">‹ newer</a>')
    label = f"page {page} of {pages}" if pages is not None else f"page {page}"
    parts.append(f"<span>{e(label)}</span>")
    if page < last:
        parts.append(f'<a href="{href(view, page=page + 1, **params)}" rel="next">older ›</a>')
    parts.append("</nav>")
    return "".join(parts)


def shell(view: str, title: str, body: str, token: str, workspace: str) -> str:
    """The whole page: navigation, the view's markup in ``<main>``, and the one script."""
    nav = "".join(
        f'<a href="{href(v)}"{" aria-current=page" if v == view else ""}>{e(label)}</a>'
        for v, label in VIEWS
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · cairn</title>"
        '<link rel="stylesheet" href="/static/ui.css">'
        '<script type="module" src="/static/ui.js"></script></head><body>'
        f'<header><span class="brand">cairn</span><nav class="views">{nav}</nav>'
        f'<span class="ws" title="{e(workspace)}">{e(workspace)}</span>'
        '<span id="live" class="live" aria-live="polite">…</span></header>'
        f'<main id="view" data-token="{e(token)}">{body}</main></body></html>\n'
    )
