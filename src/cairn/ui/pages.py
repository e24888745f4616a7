"""The dashboard's views of tasks, phases and checkpoints, as markup.

Each ``render_*`` takes what :mod:`cairn.ui.data` read and returns the view's title and body.
Every value goes through :func:`cairn.ui.html.e`; charts come from :mod:`cairn.audit.charts`,
the components ``cairn audit --html`` draws with.
"""

from __future__ import annotations

import json
from typing import Any

from cairn.audit.charts import Span, timeline
from cairn.ui.data import parse_ts
from cairn.ui.html import dur, e, href, link, pager, pre, state, table, ts


def _phase_strip(phases: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<span class="cell {e(s) if s in _STATES else "other"}" title="{e(n)}: {e(s)}"></span>'
        for n, s in phases
    )
    return f'<span class="strip">{cells}</span>'


_STATES = {"done", "active", "failed", "blocked", "pending"}


def _last_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[-1] if lines else ""


def render_overview(d: dict[str, Any]) -> tuple[str, str]:
    c = d["counts"]
    out = [
        "<h1>Where the work stands</h1>",
        f'<p class="counts"><b>{c["tasks"]:,}</b> tasks · <b>{c["checkpoint_versions"]:,}</b> '
        f"checkpoint versions · <b>{c['compactions']:,}</b> compactions "
        f"(<b>{c['suboptimal_compactions']:,}</b> mid-phase)</p>",
    ]
    notes = []
    for s in d["interrupted"]:
        notes.append(
            f'<li class="warn">{link(s["task"], "task", id=s["task"])} / {e(s["phase"])}: its '
            f"process {e(s['pid'])} is gone. Run its workflow again (<code>cairn run FILE</code>): "
            "the phase runs again from its start, its progress steps kept.</li>"
        )
    for f in d["failed"]:
        notes.append(
            f'<li class="bad">{link(f["task"], "task", id=f["task"])} / {e(f["phase"])} failed '
            f"{ts(f['at'])}: {e(_last_line(f['error']))}"
            "</li>"
        )
    for r in d["pending_reviews"]:
        notes.append(
            f'<li class="pending">review {link(r["id"], "reviews")} of '
            f"{e(r['topic'])} (round {e(r['round'])}) waits for a verdict</li>"
        )
    if notes:
        out.append(f'<h2>Needs a look</h2><ul class="notes">{"".join(notes)}</ul>')
    rows = []
    for t in d["tasks"]:
        rows.append(
            [
                link(t["id"], "task", id=t["id"]),
                e(t["title"]),
                state(t["state"]),
                e(t["phase"] or "—"),
                _phase_strip(t["phases"]),
                e(t["next_action"] or ""),
                ts(t["updated_at"]),
            ]
        )
    out.append("<h2>Tasks</h2>")
    out.append(
        table(
            ["task", "title", "state", "phase", "phases", "next action", "updated"],
            rows,
            cls="tasks",
        )
    )
    out.append(pager("overview", d["page"], d["pages"]))
    return "Tasks", "".join(out)


def _phase_spans(d: dict[str, Any]) -> tuple[list[Span], float]:
    starts = [parse_ts(p["started_at"]) for p in d["phases"]]
    first = min((t for t in starts if t is not None), default=None)
    now = parse_ts(d["now"])
    if first is None or now is None:
        return [Span(p["name"], None, None, p["state"], p["state"]) for p in d["phases"]], 1.0
    spans = []
    for p, st in zip(d["phases"], starts, strict=True):
        end = parse_ts(p["finished_at"]) or (now if p["state"] == "active" else None)
        tip = f"{p['name']}: {p['state']}, {dur(p['duration'])}, attempts {p['attempts']}"
        spans.append(
            Span(
                p["name"],
                None if st is None else (st - first).total_seconds(),
                None if end is None else (end - first).total_seconds(),
                p["state"],
                tip,
            )
        )
    ends = [sp.end for sp in spans if sp.end is not None]
    if any(p["state"] == "active" for p in d["phases"]) or not ends:
        return spans, max((now - first).total_seconds(), 1.0)
    return spans, max(max(ends), 0.001)  # nothing runs: the axis ends with the last phase


def _secs(v: float) -> str:
    return dur(v)


def _gate_cell(d: dict[str, Any], p: dict[str, Any]) -> str:
    if not p["gated"]:
        return ""
    if p["override"]:
        o = p["override"]
        return f'<span class="warn">overridden {ts(o["ts"])}: {e(o["reason"])}</span>'
    g = d["gate"]
    if g.get("open"):
        who = g.get("approved_by") or "?"
        by = f" by {e(g['reviewer'])} ({e(who)})" if g.get("reviewer") else f" by {e(who)}"
        return f'<span class="ok">open: plan v{e(g["plan_version"])} approved{by}</span>'
    return f'<span class="pending">closed: review {e(g.get("state"))}</span>'


def render_task(d: dict[str, Any]) -> tuple[str, str]:
    out = [
        f"<h1>{e(d['id'])} {state(d['state'])}</h1>",
        f'<p class="title">{e(d["title"])}</p>',
        ""
        if d["task_state"] == "open"
        else f'<p class="warn">This task is {e(d["task_state"])}: out of the lists, the status '
        "and the briefs; its history is kept.</p>",
        f'<p class="next"><b>Next action:</b> <span id="next-action">{e(d["next_action"] or "—")}'
        "</span></p>",
    ]
    for s in d["interrupted"]:
        out.append(
            f'<p class="warn">Phase {e(s["phase"])} was interrupted: its process {e(s["pid"])} is '
            "gone. Run its workflow again (<code>cairn run FILE</code>): the phase runs again "
            "from its start, with its earlier steps kept.</p>"
        )
    spans, total = _phase_spans(d)
    out.append("<h2>Phases</h2>")
    if spans:
        out.append(timeline(spans, total=total, x_text=_secs))
    rows = []
    for p in d["phases"]:
        runs = "; ".join(
            f"#{r['attempt']} {r['state']}" + (f" ({r['host']}:{r['pid']})" if r["pid"] else "")
            for r in p["runs"]
        )
        rows.append(
            [
                f'<span class="phase" data-phase="{e(p["name"])}">{e(p["name"])}</span>',
                state(p["state"]),
                e(p["attempts"] or ("1" if p["started_at"] else "0")),
                e(dur(p["duration"])),
                ts(p["started_at"]),
                ts(p["finished_at"]),
                _gate_cell(d, p),
                e(runs) + (pre(p["error"], cls="err") if p["error"] else ""),
            ]
        )
    out.append(
        table(
            ["phase", "state", "attempts", "duration", "started", "finished", "gate", "runs"],
            rows,
            cls="phases",
        )
    )
    out.append("<h2>Checkpoints</h2>")
    rows = [
        [
            f'<a class="cp" href="{href("checkpoint", task=d["id"], kind=c["kind"])}">'
            f"{e(c['kind'])}</a>",
            e(f"v{c['version']}"),
            e(c["versions"]),
            '<span class="hand">✎ hand edit</span>'
            if c["source"] == "hand-edit"
            else e(c["source"]),
            e(f"{c['size']:,} B"),
            e(c["phase"] or "—"),
            ts(c["created_at"]),
            f"<code>{e(c['path'])}</code>",
        ]
        for c in d["checkpoints"]
    ]
    out.append(
        table(
            ["kind", "newest", "versions", "source", "size", "phase", "written", "file"],
            rows,
            cls="checkpoints",
        )
    )
    out.append(f"<h2>Progress steps ({d['steps_total']:,})</h2>")
    if d["steps_total"] > len(d["steps"]):
        out.append(f'<p class="muted">The newest {len(d["steps"])} are shown.</p>')
    out.append(
        '<ol class="steps">'
        + "".join(
            f'<li class="{e(s["state"]) if s["state"] in _STEP else "todo"}">'
            f"{_STEP.get(s['state'], '')} {e(s['text'])}"
            f'<span class="muted"> {e(s["phase"] or "")}</span></li>'
            for s in d["steps"]
        )
        + "</ol>"
    )
    if d["streams"]:
        out.append("<h2>Streams</h2>")
        out.append(
            table(
                ["stream", "records", "state", "last event"],
                [
                    [
                        f"<code>{e(s['path'])}</code>",
                        e("—" if s["records"] is None else f"{s['records']:,}"),
                        state(s["state"]),
                        ts(s["at"]),
                    ]
                    for s in d["streams"]
                ],
            )
        )
    if d["workers"]:
        out.append("<h2>Workers</h2>")
        out.append(
            table(
                ["worker", "state", "attempt", "time", "summary"],
                [
                    [
                        e(w["name"]),
                        state(w["state"]),
                        e(w["attempt"]),
                        e(dur(w["duration"])),
                        e(w["summary"] or ""),
                    ]
                    for w in d["workers"]
                ],
            )
        )
    out.append("<h2>Journal (newest 30)</h2>")
    out.append(
        table(
            ["#", "time", "event", "data"],
            [
                [
                    e(ev["id"]),
                    ts(ev["ts"]),
                    e(ev["type"]),
                    f"<code>{e(json.dumps(ev['data'], ensure_ascii=False, default=str)[:300])}"
                    "</code>",
                ]
                for ev in d["events"]
            ],
            cls="events",
        )
    )
    return d["id"], "".join(out)


_STEP = {"done": "✅", "active": "⏳", "todo": "⏸️", "failed": "❌"}


def render_checkpoint(d: dict[str, Any]) -> tuple[str, str]:
    task, kind = d["task"], d["kind"]
    out = [
        f"<h1>{link(task, 'task', id=task)} · {e(kind)}</h1>",
        f"<p class=muted><code>{e(d['path'])}</code></p>",
    ]
    versions = [h["version"] for h in d["history"]]
    newest = versions[0] if versions else None
    rows = []
    for h in d["history"]:
        v = h["version"]
        compare = (
            f'<a href="{href("checkpoint", task=task, kind=kind, a=v - 1, b=v, v=v)}">'
            f"diff v{v - 1}→v{v}</a>"
            if v > min(versions)
            else ""
        )
        rows.append(
            [
                f'<a href="{href("checkpoint", task=task, kind=kind, v=v)}">v{e(v)}</a>'
                + (" (newest)" if v == newest else ""),
                '<span class="hand">✎ hand edit</span>'
                if h["source"] == "hand-edit"
                else e(h["source"]),
                e(f"{h['size']:,} B"),
                e(h["phase"] or "—"),
                ts(h["created_at"]),
                f"<code>{e(h['hash'])}</code>",
                compare,
            ]
        )
    out.append("<h2>History</h2>")
    out.append(
        table(["version", "source", "size", "phase", "written", "sha256", ""], rows, cls="history")
    )
    if len(versions) > 1:
        opts_a = "".join(
            f'<option value="{v}"{" selected" if v == (d["a"] or min(versions)) else ""}>v{v}</option>'
            for v in versions
        )
        opts_b = "".join(
            f'<option value="{v}"{" selected" if v == (d["b"] or newest) else ""}>v{v}</option>'
            for v in versions
        )
        out.append(
            '<form class="diff" method="get" action="/"><input type="hidden" name="view" '
            f'value="checkpoint"><input type="hidden" name="task" value="{e(task)}">'
            f'<input type="hidden" name="kind" value="{e(kind)}">Compare '
            f'<select name="a">{opts_a}</select> with <select name="b">{opts_b}</select> '
            '<button type="submit">diff</button></form>'
        )
    if d["diff"] is not None:
        out.append(f"<h2>Diff v{e(d['a'])} → v{e(d['b'])}</h2>")
        if not d["diff"]:
            out.append('<p class="muted">No difference.</p>')
        out.append(
            '<pre class="diff">'
            + "".join(f'<span class="{cls}">{e(line) or " "}</span>' for cls, line in d["diff"])
            + "</pre>"
        )
    if d["content"] is not None:
        out.append(f"<h2>Version {e(d['version'])}</h2>")
        out.append(pre(d["content"], cls="content"))
        if d["cut"]:
            out.append('<p class="muted">Cut here; the whole text is in the file.</p>')
    return f"{task} {kind}", "".join(out)
