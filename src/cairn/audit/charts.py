"""Plain SVG charts, shared by ``cairn audit --html`` and the dashboard (``cairn ui``).

Each function returns one ``<svg>`` element as text. Every label and tooltip is escaped here, and
colours are presentation attributes rather than ``style`` (the dashboard's Content-Security-Policy
allows no inline style), so a chart can be dropped into either page as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

SAFE = "#2e7d32"
MID = "#d84315"
LINE = "#1565c0"
WARN = "#ef6c00"
MUTED = "#9e9e9e"
STATE_COLOURS = {
    "done": SAFE,
    "active": LINE,
    "running": LINE,
    "failed": MID,
    "crashed": MID,
    "blocked": "#6a1b9a",
    "pending": "#bdbdbd",
    "reset": MUTED,
}
W, H = 920, 280
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 16, 36


def _e(v: object) -> str:
    return escape(str(v), quote=True)


def _n(v: object) -> str:
    return f"{v:,}" if isinstance(v, int) else "—"


@dataclass(frozen=True)
class Mark:
    """A vertical line on a chart (a compaction): green at a safe point, red mid-phase."""

    x: float
    safe: bool
    tip: str
    dashed: bool = False


def context_chart(
    points: Sequence[tuple[float, int]],
    marks: Sequence[Mark],
    *,
    window: int | None = None,
    x_max: float | None = None,
    x_label: str = "turn",
    x_text: Callable[[float], str] = lambda v: str(int(v)),
    label: str = "context size over time",
) -> str:
    """Context tokens over ``x`` (turns or seconds) as a line; ``marks`` as vertical lines."""
    hi_x = max([p[0] for p in points] + [m.x for m in marks] + [x_max or 0, 1])
    top = int(max([p[1] for p in points] + [window or 0, 1000]) * 1.08)
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x(v: float) -> float:
        return PAD_L + iw * v / hi_x

    def y(v: int) -> float:
        return PAD_T + ih * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" role="img" aria-label="{_e(label)}" class="chart">',
        f'<rect x="{PAD_L}" y="{PAD_T}" width="{iw}" height="{ih}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for i in range(5):  # y grid and labels
        v = top * i // 4
        yy = y(v)
        parts.append(
            f'<line x1="{PAD_L}" x2="{PAD_L + iw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>'
            f'<text x="{PAD_L - 6}" y="{yy + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{_n(v)}</text>'
        )
    for i in range(5):
        t = hi_x * i / 4
        anchor = "end" if i == 4 else "middle"  # the last label stays inside the picture
        parts.append(
            f'<text x="{x(t):.1f}" y="{H - PAD_B + 16}" font-size="11" text-anchor="{anchor}" '
            f'fill="#555">{_e(x_text(t))}</text>'
        )
    parts.append(
        f'<text x="{PAD_L + iw / 2:.0f}" y="{H - 4}" font-size="11" text-anchor="middle" '
        f'fill="#555">{_e(x_label)}</text>'
    )
    if window:
        yy = y(window)
        parts.append(
            f'<line x1="{PAD_L}" x2="{PAD_L + iw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#999" '
            f'stroke-dasharray="6 4"><title>context window {_n(window)}</title></line>'
        )
    if points:
        path = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="1.6">'
            f"<title>context tokens</title></polyline>"
        )
    for m in marks:
        colour = SAFE if m.safe else MID
        dash = ' stroke-dasharray="3 3"' if m.dashed else ""
        xx = x(min(m.x, hi_x))
        parts.append(
            f'<g class="compaction" data-placement="{"safe" if m.safe else "mid"}"><line x1="{xx:.1f}" '
            f'x2="{xx:.1f}" y1="{PAD_T}" y2="{PAD_T + ih}" stroke="{colour}" stroke-width="2"'
            f'{dash}/><circle cx="{xx:.1f}" cy="{PAD_T + 6}" r="5" fill="{colour}"/>'
            f"<title>{_e(m.tip)}</title></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def hbars(rows: Sequence[tuple[str, int]], *, label: str = "tokens by category") -> str:
    """One horizontal bar per (label, value), the largest full width; rows without a value are
    left out."""
    rows = sorted((r for r in rows if r[1]), key=lambda kv: -kv[1])
    if not rows:
        return '<p class="muted">No content measured.</p>'
    top = rows[0][1]
    h = 22 * len(rows) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" '
        f'height="{h}" role="img" aria-label="{_e(label)}" class="chart">'
    ]
    for i, (k, v) in enumerate(rows):
        yy = 4 + i * 22
        w = 560 * v / top
        parts.append(
            f'<text x="200" y="{yy + 14}" font-size="12" text-anchor="end">{_e(k)}</text>'
            f'<rect x="208" y="{yy + 2}" width="{w:.1f}" height="16" fill="{LINE}" opacity="0.75"/>'
            f'<text x="{214 + w:.1f}" y="{yy + 14}" font-size="12">{_n(v)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def allocation_bars(
    rows: Sequence[tuple[str, int, int | None]], *, label: str = "budget by category"
) -> str:
    """Each (label, used, allocated): the allocation as a grey track, what was used over it,
    orange past 80 % and red past the allocation."""
    h = 26 * len(rows) + 8
    track = 520
    scale = max([max(u, a or 0) for _, u, a in rows] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" '
        f'height="{h}" role="img" aria-label="{_e(label)}" class="chart">'
    ]
    for i, (name, used, alloc) in enumerate(rows):
        yy = 4 + i * 26
        frac = used / alloc if alloc else (0.0 if not used else float("inf"))
        colour = MID if frac >= 1 else WARN if frac >= 0.8 else SAFE
        aw = track * (alloc or 0) / scale
        uw = track * used / scale
        pct = f"{frac:.0%}" if alloc else "no allocation"
        parts.append(
            f'<text x="220" y="{yy + 15}" font-size="12" text-anchor="end">{_e(name)}</text>'
            f'<rect x="228" y="{yy + 2}" width="{aw:.1f}" height="18" fill="#e0e0e0"/>'
            f'<rect x="228" y="{yy + 6}" width="{uw:.1f}" height="10" fill="{colour}">'
            f"<title>{_e(name)}: {_n(used)} of {_n(alloc)}</title></rect>"
            f'<text x="{236 + max(aw, uw):.1f}" y="{yy + 15}" font-size="12">'
            f"{_n(used)} / {_n(alloc)} ({_e(pct)})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Span:
    """One bar of a timeline: a phase (or a run) from ``start`` to ``end`` seconds."""

    label: str
    start: float | None
    end: float | None
    state: str
    tip: str


def timeline(
    spans: Sequence[Span],
    *,
    total: float,
    x_text: Callable[[float], str] = lambda v: f"{v:.0f}s",
    label: str = "phases over time",
) -> str:
    """A bar per span on one time axis (0 to ``total`` seconds); spans never started are drawn as
    an empty outline at the end."""
    row_h, left, right = 24, 160, 16
    iw = W - left - right
    h = row_h * len(spans) + 28
    hi = total if total > 0 else 1.0

    def x(v: float) -> float:
        return left + iw * min(max(v, 0.0), hi) / hi

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="{W}" '
        f'height="{h}" role="img" aria-label="{_e(label)}" class="chart timeline">'
    ]
    for i in range(5):
        t = hi * i / 4
        anchor = "end" if i == 4 else "middle"
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="0" y2="{h - 20}" stroke="#eee"/>'
            f'<text x="{x(t):.1f}" y="{h - 6}" font-size="11" text-anchor="{anchor}" '
            f'fill="#555">{_e(x_text(t))}</text>'
        )
    for i, s in enumerate(spans):
        yy = 4 + i * row_h
        colour = STATE_COLOURS.get(s.state, MUTED)
        parts.append(
            f'<text x="{left - 8}" y="{yy + 14}" font-size="12" text-anchor="end">{_e(s.label)}'
            "</text>"
        )
        if s.start is None:
            parts.append(
                f'<rect x="{x(hi) - 14:.1f}" y="{yy + 3}" width="12" height="14" fill="none" '
                f'stroke="{colour}"><title>{_e(s.tip)}</title></rect>'
            )
            continue
        x0 = x(s.start)
        x1 = max(x(s.end if s.end is not None else hi), x0 + 2)
        parts.append(
            f'<rect class="span {_e(s.state)}" x="{x0:.1f}" y="{yy + 3}" width="{x1 - x0:.1f}" '
            f'height="14" fill="{colour}"><title>{_e(s.tip)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)
