"""The audit as plain text for a terminal (no colour, no dependencies)."""

from __future__ import annotations

from typing import Any

from cairn.audit.analysis import CATEGORY_LABELS

_SPARK = "▁▂▃▄▅▆▇█"


def _n(v: Any) -> str:
    return f"{v:,}" if isinstance(v, int) else "—"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def sparkline(values: list[int], width: int = 60) -> str:
    """Context over time in one line: each character the peak of its slice of the timeline."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            max(values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)])
            for i in range(width)
        ]
    top = max(values) or 1
    return "".join(_SPARK[min(len(_SPARK) - 1, v * len(_SPARK) // (top + 1))] for v in values)


def _table(rows: list[list[str]], indent: str = "    ", right: set[int] | None = None) -> list[str]:
    right = right or set()
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append(indent + "  ".join(cells).rstrip())
    return out


def _session_title(s: dict[str, Any]) -> str:
    who = s["format"] or "?"
    if s["versions"]:
        who += " " + ", ".join(s["versions"][:3])
    if s["models"]:
        who += " · " + ", ".join(s["models"][:2])
    kind = "subagent transcript" if s["is_subagent"] else "session"
    return f"{kind} {s['session_id'] or '?'} ({who})"


def render_text(doc: dict[str, Any]) -> str:
    out: list[str] = []
    t = doc["totals"]
    out.append(
        f"cairn audit: {t['sessions']} session(s), {t['subagent_files']} subagent file(s), "
        f"{_n(t['lines'])} lines"
    )
    out.append(f"tokens by {doc['estimate']['label']}; context sizes are the agents' own counts")
    for s in doc["sessions"]:
        out.append("")
        out.extend(_session_text(s, doc["safe_window_turns"]))
    out.append("")
    c = t["compactions"]
    out.append(
        f"Totals: {_n(t['turns'])} turns, peak context {_n(t['peak_context'])}, "
        f"{c['total']} compaction(s): {c['safe']} at a safe point, {c['mid_phase']} mid-phase; "
        f"{t['subagents']['count']} subagent(s) spent {_n(t['subagents']['spend_tokens'])} tokens "
        f"and returned {_n(t['subagents']['returned_tokens'])}"
    )
    if t["malformed"] or t["unknown"]:
        out.append(
            f"Skipped: {t['malformed']} malformed line(s), {t['unknown']} record(s) of unknown type"
        )
    return "\n".join(out) + "\n"


def _session_text(s: dict[str, Any], window: int) -> list[str]:
    out = [_session_title(s), f"  {s['path']}"]
    win = f" of {_n(s['context_window'])}" if s["context_window"] else ""
    if s["timeline"]:
        ctx = (
            f"peak context {_n(s['peak_context'])}{win} (turn {s['peak_turn']}) · final "
            f"{_n(s['final_context'])}"
        )
    else:
        ctx = "no token usage recorded"
    out.append(f"  turns {_n(s['turns'])} · {ctx} · checkpoint writes {s['checkpoint_writes']}")
    values = [p["context"] for p in s["timeline"]]
    if values:
        out.append(f"  context  {sparkline(values)}")
    comps = s["compactions"]
    if comps:
        out.append(
            f"  Compactions ({len(comps)}; safe = a checkpoint write in the {window} turns before)"
        )
        rows = [["#", "line", "turn", "kind", "trigger", "pre-tokens", "placement", "checkpoint"]]
        for i, c in enumerate(comps, 1):
            cp = c["checkpoint"]
            if cp is None:
                cpt = "none before it"
            else:
                cpt = f"{c['turns_since_checkpoint']} turn(s) before: {cp['what']}"
            rows.append(
                [
                    str(i),
                    str(c["line"]),
                    str(c["turn"]),
                    c["kind"],
                    c["trigger"] or "—",
                    _n(c["pre_tokens"]) + ("*" if c["pre_tokens_from"] == "last_usage" else ""),
                    "safe" if c["placement"] == "safe" else "MID-PHASE",
                    cpt,
                ]
            )
        out.extend(_table(rows, right={0, 1, 2, 5}))
        if any(c["pre_tokens_from"] == "last_usage" for c in comps):
            out.append("    * from the last usage reading before the compaction")
    else:
        out.append("  Compactions: none")
    cats = s["context_by_category"]
    whole = sum(v["tokens"] for v in cats.values())
    if whole:
        out.append("  Where the context went (estimated tokens)")
        rows = [["category", "tokens", "share", "items"]]
        for name, v in sorted(cats.items(), key=lambda kv: -kv[1]["tokens"]):
            if v["tokens"]:
                rows.append(
                    [
                        CATEGORY_LABELS[name],
                        _n(v["tokens"]),
                        _pct(v["tokens"], whole),
                        _n(v["items"]),
                    ]
                )
        out.extend(_table(rows, right={1, 2, 3}))
        top = s["largest_items"][:5]
        if top:
            out.append("  Largest items")
            out.extend(
                _table([[_n(i["tokens"]), f"line {i['line']}", i["label"]] for i in top], right={0})
            )
    subs = s["subagents"]
    if subs["count"]:
        out.append(
            f"  Subagents: {subs['count']} ({subs['calls']} calls), spend "
            f"{_n(subs['spend_tokens'])} tokens, returned {_n(subs['returned_tokens'])}"
        )
        rows = [["agent", "source", "turns", "spend", "peak", "returned", "tool uses"]]
        for a in subs["agents"][:20]:
            rows.append(
                [
                    a["agent_id"][:24],
                    a["source"],
                    _n(a["turns"]),
                    _n(a["spend_tokens"] or a["reported_total_tokens"]),
                    _n(a["peak_context"]),
                    _n(a["returned_tokens"]),
                    _n(a["tool_uses"]),
                ]
            )
        out.extend(_table(rows, right={2, 3, 4, 5, 6}))
    if s["malformed_count"]:
        shown = ", ".join(str(m["line"]) for m in s["malformed"][:10])
        first = s["malformed"][0]["error"] if s["malformed"] else ""
        out.append(f"  Malformed lines: {s['malformed_count']} (line {shown}); first: {first}")
    if s["unknown_count"]:
        kinds = ", ".join(f"{k} ×{v}" for k, v in list(s["unknown"].items())[:8])
        out.append(f"  Unknown records skipped: {s['unknown_count']} ({kinds})")
    return out
