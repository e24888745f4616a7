"""The dashboard's views of compactions, the budget, reviews, workers and subagents."""

from __future__ import annotations

from typing import Any

from cairn.audit.charts import Mark, allocation_bars, context_chart
from cairn.audit.html import chart_svg
from cairn.ui.data import parse_ts
from cairn.ui.data_more import agent_context_points
from cairn.ui.html import dur, e, link, pager, pre, state, table, ts


def _where(task: str | None, phase: str | None) -> str:
    if task is None:
        return '<span class="muted">no active phase</span>'
    return f"{link(task, 'task', id=task)} / {e(phase or 'between phases')}"


def _verdict(safe: bool | None) -> str:
    if safe is None:
        return '<span class="muted">unknown</span>'
    return '<span class="ok">safe point</span>' if safe else '<span class="bad">mid-phase</span>'


def _time_marks(rows: list[dict[str, Any]], first: Any) -> list[Mark]:
    marks = []
    for r in rows:
        t = parse_ts(r["ts"])
        if t is None or first is None:
            continue
        tip = f"{r['ts']}: {'safe point' if r['safe_point'] else 'mid-phase'}; {r['reason']}"
        marks.append(Mark((t - first).total_seconds(), bool(r["safe_point"]), tip))
    return marks


def _brief_cell(b: dict[str, Any] | None) -> str:
    if b is None:
        return ""
    files = ", ".join(b["reloaded"])
    return (
        f"<code>{e(b['checkpoint'] or 'no checkpoint yet')}</code>"
        f'<span class="muted"> · reloaded {e(files or "nothing")}</span>'
    )


def render_compactions(d: dict[str, Any]) -> tuple[str, str]:
    out = [
        "<h1>Compactions</h1>",
        f'<p class="counts"><b>{d["total"]:,}</b> recorded by the hooks, '
        f"<b>{d['suboptimal']:,}</b> mid-phase; <b>{len(d['agent']):,}</b> by the agent runtime.</p>",
        '<p class="legend"><span class="l-line">━ context tokens</span>'
        '<span class="l-safe">┃ compaction at a safe point</span>'
        '<span class="l-mid">┃ compaction mid-phase</span></p>',
    ]
    for s in d["sessions"]:
        out.append(f"<h2>Session transcript <code>{e(s['path'])}</code></h2>")
        if s["chart"] is None:
            out.append('<p class="muted">The transcript is not readable here.</p>')
        else:
            out.append(chart_svg(s["chart"]))
    if d["agent"]:
        pts, span = agent_context_points(d["agent"])
        first = parse_ts(d["agent"][0]["ts"])
        window = max((int(a["window"]) for a in d["agent"]), default=0) or None
        out.append("<h2>Agent runtime: context size over time</h2>")
        out.append(
            context_chart(
                pts,
                _time_marks(d["agent"], first),
                window=window,
                x_max=span,
                x_label="time since the first compaction",
                x_text=dur,
            )
        )
    elif d["rows"] and not d["sessions"]:
        first = parse_ts(d["rows"][0]["ts"])
        marks = _time_marks(d["rows"], first)
        span = max([m.x for m in marks] + [1.0])
        out.append("<h2>Compactions over time</h2>")
        out.append(
            '<p class="muted">No transcript is known for these sessions: the compactions alone.</p>'
        )
        out.append(context_chart([], marks, x_max=span, x_label="time since the first", x_text=dur))
    rows = [
        [
            ts(r["ts"]),
            e(r["agent"]),
            e(r["trigger"] or "?"),
            _where(r["task"], r["phase"]),
            _verdict(r["safe_point"]),
            e("?" if r["tool_calls"] is None else r["tool_calls"]),
            e(dur(r["since_checkpoint"])),
            e(r["reason"]),
            ts(r["recovered_at"]) if r["recovered_at"] else '<span class="warn">not yet</span>',
            _brief_cell(r["brief"]),
        ]
        for r in reversed(d["rows"])
    ]
    out.append("<h2>Recorded by the hooks (newest first)</h2>")
    out.append(
        table(
            [
                "time",
                "agent",
                "trigger",
                "during",
                "placement",
                "tool calls",
                "since checkpoint",
                "why",
                "recovered",
                "brief injected",
            ],
            rows,
            cls="compactions",
        )
    )
    if d["agent"]:
        out.append("<h2>Made by the agent runtime (newest first)</h2>")
        out.append(
            table(
                ["time", "during", "placement", "before", "after", "window", "why"],
                [
                    [
                        ts(a["ts"]),
                        _where(a["task"], a["phase"]),
                        _verdict(a["safe_point"]),
                        e(f"{a['before']:,}"),
                        e(f"{a['after']:,}"),
                        e(f"{a['window']:,}"),
                        e(a["reason"]),
                    ]
                    for a in reversed(d["agent"])
                ],
            )
        )
    b = d["brief"]
    out.append(
        f"<h2>Recovery brief</h2><p class=muted>What a recovery injects now ({e(b['tokens'])} "
        "tokens): the same builder the SessionStart hook uses after a compaction.</p>"
    )
    out.append(pre(b["text"], cls="brief"))
    out.append("<h2>Recovery log</h2>")
    out.append(pre(d["recovery_log"] or "No recovery yet.", cls="log"))
    return "Compactions", "".join(out)


_LEVELS = {
    "ok": '<span class="badge done">ok</span>',
    "warn": '<span class="badge blocked">warn</span>',
    "over": '<span class="badge failed">over</span>',
}


def render_budget(d: dict[str, Any]) -> tuple[str, str]:
    out = ["<h1>Context budget</h1>"]
    rep = d["report"]
    if rep is None:
        out.append(f'<p class="bad">{e(d["error"])}</p>')
        return "Budget", "".join(out)
    st = rep["settings"]
    scope = rep["context"] or "(none yet)"
    out.append(
        f'<p class="counts">Window <b>{st["window"]:,}</b> tokens · context <code>{e(scope)}</code>'
        f" · in context <b>{rep['total_in_context']:,}</b> "
        f"({rep['window_fraction']:.1%}) · subagent work outside it "
        f"<b>{rep['subagent_work']:,}</b></p>"
    )
    cats = [c for c in rep["categories"] if c["category"] != "buffer" or c["used"]]
    out.append(allocation_bars([(c["label"], c["used"], c["allocated"]) for c in cats]))
    if rep["warnings"]:
        out.append(
            '<ul class="notes">'
            + "".join(f'<li class="warn">{e(w)}</li>' for w in rep["warnings"])
            + "</ul>"
        )
    rows = [
        [
            e(c["label"]),
            e(f"{c['used']:,}") + ("" if c["exact"] or not c["used"] else " ~"),
            e("—" if c["allocated"] is None else f"{c['allocated']:,}"),
            _LEVELS.get(c["level"], _LEVELS["ok"]),
            e(", ".join(f"{s['source']} ({s['tokens']:,})" for s in c["top_sources"])),
        ]
        for c in cats
    ]
    out.append(table(["category", "used", "allocated", "level", "largest sources"], rows))
    return "Budget", "".join(out)


def render_reviews(d: dict[str, Any]) -> tuple[str, str]:
    out = ["<h1>Reviews</h1>"]
    pending = sum(1 for r in d["reviews"] if r["pending"])
    if pending:
        out.append(f'<p class="pending"><b>{pending}</b> waiting for a verdict.</p>')
    if not d["reviews"]:
        out.append('<p class="muted">No review requested yet.</p>')
    for r in d["reviews"]:
        v = r["verdict"]
        cls = "review pending" if r["pending"] else "review"
        head = (
            f"{e(r['topic'])} <span class=muted>round {e(r['round'])} of {e(r['rounds'])} · "
            f"{e(r['id'])}</span> {state(r['state'])}"
        )
        task = f" · task {link(r['task'], 'task', id=r['task'])}" if r["task"] else ""
        body = [
            f'<section class="{cls}"><h2>{head}</h2>',
            f"<p class=muted>asked {ts(r['created_at'])} of {e(r['reviewer'])}{task} · "
            f"<code>{e(r['request_path'])}</code></p>",
            f"<p><b>Question:</b> {e(r['question'])}</p>",
        ]
        if r["concerns"]:
            body.append("<p><b>Concerns:</b> " + ", ".join(e(c) for c in r["concerns"]) + "</p>")
        if v is None:
            body.append('<p class="pending">No verdict yet.</p>')
        else:
            body.append(
                f"<p><b>Verdict:</b> {state(v['outcome'])} by {e(v['reviewer'])}"
                f"{' (' + e(v['model']) + ')' if v['model'] else ''} {ts(v['at'])}</p>"
            )
            if v["recommendation"]:
                body.append(f"<p><b>Recommendation:</b> {e(v['recommendation'])}</p>")
            if v["error"]:
                body.append(pre(v["error"], cls="err"))
        body.append("</section>")
        out.append("".join(body))
    out.append(pager("reviews", d["page"], None, d["more"]))
    return "Reviews", "".join(out)


def render_runs(d: dict[str, Any]) -> tuple[str, str]:
    out = ["<h1>Workers and subagents</h1>", "<h2>Workers</h2>"]
    rows = []
    for w in d["workers"]:
        log = ""
        if w["log_tail"]:
            log = f"<details><summary>log</summary>{pre(w['log_tail'], cls='log')}</details>"
        rows.append(
            [
                link(w["task"], "task", id=w["task"]),
                e(w["name"]),
                state(w["state"]),
                e(w["attempt"]),
                ts(w["started_at"]),
                e(dur(w["duration"])),
                e(w["summary"] or "") + log,
                f"<code>{e(w['log_path'])}</code>",
            ]
        )
    out.append(
        table(
            ["task", "worker", "state", "attempt", "started", "time", "summary", "log"],
            rows,
            cls="workers",
        )
    )
    out.append("<h2>Agent runs</h2>")
    out.append(
        table(
            ["run", "task", "model", "state", "started", "time", "error"],
            [
                [
                    f"<code>{e(a['id'])}</code>",
                    link(a["task"], "task", id=a["task"]),
                    e(a["model"]),
                    state(a["state"]),
                    ts(a["started_at"]),
                    e(dur(a["duration"])),
                    e(a["error"] or ""),
                ]
                for a in d["agents"]
            ],
        )
    )
    out.append("<h2>Subagents</h2>")
    out.append(
        table(
            ["subagent", "task", "state", "tokens", "started", "time", "summary", "transcript"],
            [
                [
                    e(s["name"]),
                    link(s["task"], "task", id=s["task"]) if s["task"] else "",
                    state("partial" if s["partial"] and s["state"] == "done" else s["state"]),
                    e(f"{s['used']:,} / {s['budget']:,}"),
                    ts(s["started_at"]),
                    e(dur(s["duration"])),
                    e(s["summary"] or s["error"] or ""),
                    f"<code>{e(s['transcript'] or '—')}</code>",
                ]
                for s in d["subagents"]
            ],
        )
    )
    return "Workers & subagents", "".join(out)
