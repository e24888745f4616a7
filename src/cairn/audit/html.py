"""The audit as one self-contained HTML page: inline SVG charts and inline CSS, no scripts."""

from __future__ import annotations

from html import escape
from typing import Any

from cairn.audit.analysis import CATEGORY_LABELS

SAFE = "#2e7d32"
MID = "#d84315"
LINE = "#1565c0"
_W, _H = 920, 280
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 64, 16, 16, 36

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
    pts = s["timeline"]
    comps = s["compactions"]
    max_turn: int = max([p["turn"] for p in pts] + [c["turn"] for c in comps] + [s["turns"], 1])
    top: int = max([p["context"] for p in pts] + [s["context_window"] or 0, 1000])
    top = int(top * 1.08)
    iw, ih = _W - _PAD_L - _PAD_R, _H - _PAD_T - _PAD_B

    def x(turn: float) -> float:
        return _PAD_L + iw * turn / max_turn

    def y(v: int) -> float:
        return _PAD_T + ih * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" '
        f'height="{_H}" role="img" aria-label="context size over turns">',
        f'<rect x="{_PAD_L}" y="{_PAD_T}" width="{iw}" height="{ih}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for i in range(5):  # y grid and labels
        v = top * i // 4
        yy = y(v)
        parts.append(
            f'<line x1="{_PAD_L}" x2="{_PAD_L + iw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>'
            f'<text x="{_PAD_L - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{_n(v)}</text>'
        )
    for i in range(5):
        t = max_turn * i // 4
        parts.append(
            f'<text x="{x(t):.1f}" y="{_H - _PAD_B + 16}" font-size="11" text-anchor="middle" '
            f'fill="#555">{t}</text>'
        )
    parts.append(
        f'<text x="{_PAD_L + iw / 2:.0f}" y="{_H - 4}" font-size="11" text-anchor="middle" '
        f'fill="#555">turn</text>'
    )
    if s["context_window"]:
        yy = y(s["context_window"])
        parts.append(
            f'<line x1="{_PAD_L}" x2="{_PAD_L + iw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#999" '
            f'stroke-dasharray="6 4"><title>context window {_n(s["context_window"])}</title></line>'
        )
    if pts:
        path = " ".join(f"{x(p['turn']):.1f},{y(p['context']):.1f}" for p in pts)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.6">'
            f"<title>context tokens per turn</title></polyline>"
        )
    for i, c in enumerate(comps, 1):
        colour = SAFE if c["placement"] == "safe" else MID
        dash = ' stroke-dasharray="3 3"' if c["kind"] == "microcompact" else ""
        xx = x(min(c["turn"] + 0.5, max_turn))  # after the turn it followed
        tip = (
            f"#{i} {c['kind']} at turn {c['turn']} (line {c['line']}), trigger "
            f"{c['trigger'] or '?'}, pre-tokens {_n(c['pre_tokens'])}: "
            f"{'safe' if c['placement'] == 'safe' else 'mid-phase'}"
        )
        parts.append(
            f'<g class="compaction"><line x1="{xx:.1f}" x2="{xx:.1f}" y1="{_PAD_T}" '
            f'y2="{_PAD_T + ih}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<circle cx="{xx:.1f}" cy="{_PAD_T + 6}" r="5" fill="{colour}"/>'
            f"<title>{_e(tip)}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(cats: dict[str, dict[str, Any]]) -> str:
    rows = sorted(((k, v["tokens"]) for k, v in cats.items() if v["tokens"]), key=lambda kv: -kv[1])
    if not rows:
        return '<p class="muted">No content measured.</p>'
    top = rows[0][1]
    h = 22 * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {h}" width="{_W}" '
        f'height="{h}" role="img" aria-label="context by category">'
    ]
    for i, (k, v) in enumerate(rows):
        yy = 4 + i * 22
        w = 560 * v / top
        parts.append(
            f'<text x="200" y="{yy + 14}" font-size="12" text-anchor="end">'
            f"{_e(CATEGORY_LABELS.get(k, k))}</text>"
            f'<rect x="208" y="{yy + 2}" width="{w:.1f}" height="16" fill="{LINE}" opacity="0.75"/>'
            f'<text x="{214 + w:.1f}" y="{yy + 14}" font-size="12">{_n(v)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


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
