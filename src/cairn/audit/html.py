"""The audit as one self-contained HTML page: inline SVG charts and inline CSS, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from cairn.audit.analysis import CATEGORY_LABELS
from cairn.audit.charts import LINE, MID, SAFE, Mark, context_chart, hbars

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:32px;border-top:1px solid #ddd;padding-top:16px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.safe{color:#2e7d32}.mid{color:#d84315;font-weight:600}
.muted{color:#666}.legend span{margin-right:16px}code{font-size:12px}
"""


def _n(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "—"


def _e(v: Any) -> str:
    return escape(str(v), quote=True)


def chart_svg(s: dict[str, Any]) -> str:
    """Context size over turns; compactions as vertical lines, green when safe, red mid-phase."""
    comps = s["compactions"]
    marks = []
    for i, c in enumerate(comps, 1):
        safe = c["placement"] == "safe"
        tip = (
            f"#{i} {c['kind']} at turn {c['turn']} (line {c['line']}), trigger "
            f"{c['trigger'] or '?'}, pre-tokens {_n(c['pre_tokens'])}: "
            f"{'safe' if safe else 'mid-phase'}"
        )
        # drawn after the turn it followed
        marks.append(Mark(c["turn"] + 0.5, safe, tip, dashed=c["kind"] == "microcompact"))
    return context_chart(
        [(p["turn"], p["context"]) for p in s["timeline"]],
        marks,
        window=s["context_window"],
        x_max=s["turns"],
        label="context size over turns",
    )


def bars_svg(cats: dict[str, dict[str, Any]]) -> str:
    return hbars(
        [(CATEGORY_LABELS.get(k, k), v["tokens"]) for k, v in cats.items()],
        label="context by category",
    )


def render_html(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    c = t["compactions"]
    body = [
        "<h1>cairn audit</h1>",
        f"<p>{t['sessions']} session(s), {t['subagent_files']} subagent file(s), "
        f"{_n(t['turns'])} turns, peak context {_n(t['peak_context'])}. "
        f"{c['total']} compaction(s): <span class=safe>{c['safe']} at a safe point</span>, "
        f"<span class=mid>{c['mid_phase']} mid-phase</span>.</p>",
        f'<p class="muted">Safe = a checkpoint write (a cairn tool call or command, or a write '
        f"under artifacts/) in the {doc['safe_window_turns']} turns before. Content tokens by "
        f"{_e(doc['estimate']['label'])}.</p>",
        f'<p class="legend"><span style="color:{LINE}">━ context tokens</span>'
        f'<span style="color:{SAFE}">┃ compaction at a safe point</span>'
        f'<span style="color:{MID}">┃ compaction mid-phase</span>'
        f'<span class="muted">┆ dashed: microcompaction</span></p>',
    ]
    for s in doc["sessions"]:
        body.append(_session_html(s))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>cairn audit</title>"
        f"<style>{_CSS}</style></head><body>{''.join(body)}"
        f'<p class="muted">Generated {_e(doc["generated_at"])} · schema {_e(doc["schema"])}</p>'
        "</body></html>\n"
    )


def _session_html(s: dict[str, Any]) -> str:
    kind = "Subagent transcript" if s["is_subagent"] else "Session"
    who = ", ".join([s["format"] or "?", *s["versions"][:3], *s["models"][:2]])
    out = [
        f"<h2>{kind} {_e(s['session_id'] or '?')} <span class=muted>({_e(who)})</span></h2>",
        f"<p class=muted><code>{_e(s['path'])}</code></p>",
        f"<p>{_n(s['turns'])} turns · peak context {_n(s['peak_context'])} · final "
        f"{_n(s['final_context'])} · {s['checkpoint_writes']} checkpoint write(s)</p>",
        chart_svg(s),
    ]
    if s["compactions"]:
        out.append(
            "<table><tr><th class=n>#</th><th class=n>line</th><th class=n>turn</th><th>kind</th>"
            "<th>trigger</th><th class=n>pre-tokens</th><th>placement</th><th>checkpoint</th></tr>"
        )
        for i, c in enumerate(s["compactions"], 1):
            cp = c["checkpoint"]
            cpt = (
                "none before it"
                if cp is None
                else f"{c['turns_since_checkpoint']} turn(s) before: {cp['what']}"
            )
            cls, word = ("safe", "safe") if c["placement"] == "safe" else ("mid", "mid-phase")
            out.append(
                f"<tr><td class=n>{i}</td><td class=n>{c['line']}</td><td class=n>{c['turn']}</td>"
                f"<td>{_e(c['kind'])}</td><td>{_e(c['trigger'] or '—')}</td>"
                f"<td class=n>{_n(c['pre_tokens'])}</td><td class={cls}>{word}</td>"
                f"<td>{_e(cpt)}</td></tr>"
            )
        out.append("</table>")
    out.append("<h3>Where the context went</h3>")
    out.append(bars_svg(s["context_by_category"]))
    subs = s["subagents"]
    if subs["count"]:
        out.append(
            f"<h3>Subagents: {subs['count']}</h3><table><tr><th>agent</th><th>source</th>"
            "<th class=n>turns</th><th class=n>spend</th><th class=n>returned</th>"
            "<th class=n>tool uses</th></tr>"
        )
        for a in subs["agents"][:50]:
            out.append(
                f"<tr><td>{_e(a['agent_id'])}</td><td>{_e(a['source'])}</td>"
                f"<td class=n>{_n(a['turns'])}</td>"
                f"<td class=n>{_n(a['spend_tokens'] or a['reported_total_tokens'])}</td>"
                f"<td class=n>{_n(a['returned_tokens'])}</td><td class=n>{_n(a['tool_uses'])}</td></tr>"
            )
        out.append("</table>")
    if s["malformed_count"] or s["unknown_count"]:
        out.append(
            f"<p class=muted>Skipped {s['malformed_count']} malformed line(s) and "
            f"{s['unknown_count']} record(s) of unknown type.</p>"
        )
    return "".join(out)
