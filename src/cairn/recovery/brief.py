"""The recovery brief: everything an agent needs after a compaction, in one bounded read.

The brief always names the task, the phase, the newest checkpoint (its content, or an excerpt that
says where the rest is), the next action and the files to reload, and fits ``max_tokens`` however
long the history is: every section is bounded, and the checkpoint excerpt gets what is left.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence

from cairn.core import tokens
from cairn.core.errors import UsageError
from cairn.core.model import PHASE_ICONS, STEP_STATES
from cairn.domain.journal import BOOKKEEPING
from cairn.recovery.brief_data import SCHEMA_BRIEF as SCHEMA_BRIEF
from cairn.recovery.brief_data import Brief as Brief

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core.model import Checkpoint, Task
    from cairn.domain.workspace import Workspace
    from cairn.store.base import Transaction as Tx
    from cairn.store.contract.recoveries import RecoveryRow

TRIGGERS = ("compact", "crash", "manual", "startup", "resume", "clear")
MIN_TOKENS = 200
_TRIGGER_WORDS = {
    "compact": "Compaction happened during",
    "crash": "Crash recovery during",
    "manual": "Manual recovery during",
    "startup": "Session started during",
    "resume": "Session resumed during",
    "clear": "Context cleared during",
}
_FILES_HEADING = re.compile(
    r"\*\*(files? (to modify|modified|changed|read|to reload)|inputs?|"
    r"outputs?)\*\*:?(.*)",
    re.I,
)
Fits = Callable[[str, int], bool]  # whether a text is within a budget of tokens
_PATHLIKE = re.compile(r"`?([A-Za-z0-9_.\-/]+\.[A-Za-z0-9]{1,8})`?")


def files_from_content(content: str, limit: int = 20) -> list[str]:
    """Paths listed under 'Files to modify' / 'Files modified' style headings of a checkpoint."""
    found: list[str] = []
    lines = content.splitlines()
    i = 0
    while i < len(lines):
        m = _FILES_HEADING.search(lines[i])
        if m:
            chunk = [m.group(3)]
            j = i + 1
            while j < len(lines) and lines[j].lstrip().startswith(
                ("-", "*", "1", "2", "3", "4", "5", "6", "7", "8", "9")
            ):
                chunk.append(lines[j])
                j += 1
            for part in chunk:
                for p in _PATHLIKE.findall(part):
                    if "/" in p or p.count(".") == 1:
                        found.append(p.strip("`"))
            i = j
        else:
            i += 1
    return list(dict.fromkeys(found))[:limit]


def _pick_task(ws: Workspace, task_id: str | None) -> tuple[Task | None, list[str]]:
    if task_id is not None:
        return ws.task(task_id), []
    active = ws.active_tasks()
    if active:
        return active[0], [t.id for t in active[1:]]
    recent = [t for t in ws.tasks(limit=20) if t.state != "done"]
    if recent:
        return recent[0], []
    done = ws.tasks(limit=1)
    return (done[0] if done else None), []


def _has_phase_runs(ws: Workspace) -> bool:
    """Whether any phase was ever run durably: only then can one have been interrupted (and the
    runs' modules are loaded)."""
    with ws.store.read() as tx:
        return tx.meta.holds("phase_runs")


def _since_last(ws: Workspace, task: Task | None) -> tuple[str | None, list[str]]:
    task_id = task.id if task is not None else None
    with ws.store.read() as tx:
        last = tx.recoveries.newest()
        after = last.last_event if last else 0
        rows = tx.events.query(task_id=task_id, after=after, limit=500)
        rows = [r for r in rows if r.type not in BOOKKEEPING]
        total = tx.events.count(task_id=task_id, after=after) - tx.events.count(
            task_id=task_id, types=BOOKKEEPING, after=after
        )
    rows.reverse()  # the newest first
    counts = Counter(r.type for r in rows)
    lines: list[str] = []
    if counts:
        summary = ", ".join(f"{n} {t}" for t, n in counts.most_common(8))
        lines.append(f"- {total} events: {summary}")
    for r in rows[:5]:
        d = r.data
        what = d.get("text") or d.get("phase") or d.get("kind") or d.get("reason") or ""
        if r.type == "checkpoint.written":
            what = f"{d.get('kind')} v{d.get('version')} ({d.get('source')})"
        lines.append(f"- {r.ts} {r.type}: {str(what)[:120]}")
    return (last.ts if last else None), lines


def build_brief(
    ws: Workspace,
    *,
    task_id: str | None = None,
    max_tokens: int | None = None,
    trigger: str = "manual",
    exact: bool = False,
) -> Brief:
    from cairn.domain.base import now

    if trigger not in TRIGGERS:
        raise UsageError(f"trigger {trigger!r} is not one of {', '.join(TRIGGERS)}")
    bound = max_tokens or ws.config.brief_max_tokens
    if bound < MIN_TOKENS:
        raise UsageError(
            f"--max-tokens {bound} is too small to name task, phase, checkpoint and "
            f"files; use at least {MIN_TOKENS}"
        )
    # Without --exact: a cheap count that is provably never below the exact one, so the brief
    # still fits the bound on any content (hashes, base64, rare scripts). ``fits`` answers "within
    # this budget?" as cheaply as it can (a short text needs no vocabulary at all); ``measure``
    # says how long, where a number is needed.
    fits: Fits
    tight: Callable[[str], int] = tokens.count_tokens if exact else tokens.guaranteed_upper_bound
    if exact:

        def fits(text: str, budget: int) -> bool:
            return tokens.count_tokens(text) <= budget
    else:
        fits = tokens.fits

    def measure(text: str) -> int:
        # What the brief reports: the small cut's count unless it says more than the bound
        # (the text fits by the 16k cut's): a brief never claims to exceed its bound.
        if exact:
            return tokens.count_tokens(text)
        n = tokens.bound_count(text)
        return n if n <= bound else tokens.guaranteed_upper_bound(text)

    task, other_active = _pick_task(ws, task_id)
    ts = now()
    status_rel = ws.config.status_file
    if task is None:
        text = (
            f"# Recovery brief ({ts}, trigger: {trigger})\n\nNo task yet. Create one with "
            "`cairn task new TASK --phases analysis,plan,implement,test`.\n"
        )
        return Brief(text, measure(text), exact, bound, trigger, None, None, None, (status_rel,))

    cur = task.current_phase
    newest = ws.newest_checkpoint(task.id)
    progress_path = ws.artifact_path(task.id, "progress")
    has_progress = ws.has_checkpoint(task.id, "progress")

    # Free text in the head is clipped to a share of the bound, so that a long title or next
    # action can never push the task, phase, checkpoint and files out of a small brief.
    title = _clip(task.title or task.id, max(8, bound // 25), fits)
    head = [f"# Recovery brief: {task.id} ({ts}, trigger: {trigger})", ""]
    head.append(f"**Task**: {task.id}: {title} ({task.state})")
    phases = " · ".join(f"{p.name} {PHASE_ICONS[p.state]}" for p in task.phases) or "none"
    phases = _clip(phases, max(12, bound // 12), fits)
    head.append(f"**Phase**: {cur.name + ' (' + cur.state + ')' if cur else '—'} — {phases}")
    next_action = _clip(task.next_action, max(20, bound // 7), fits) if task.next_action else ""
    head.append(f"**Next action**: {next_action or '— (set one with `cairn next`)'}")
    if newest:
        head.append(
            f"**Newest checkpoint**: {newest.path} ({newest.kind} v{newest.version}, "
            f"{newest.created_at})"
        )
    else:
        head.append("**Newest checkpoint**: none yet")
    if cur is not None and cur.state == "active" and _has_phase_runs(ws):
        from cairn.domain.phase_status import liveness

        seen = liveness(ws, task.id, cur.name)
        if seen is not None and not seen[1].alive:
            gone = "stopped renewing its lease" if seen[1].reason == "lease expired" else "is gone"
            head.append(
                f"**Interrupted**: process {seen[0].pid} on {seen[1].host}, which ran this phase, "
                f"{gone}; run its workflow again (`cairn run FILE`, on any machine) and the phase "
                "restarts, its progress kept"
            )
        elif seen is not None:
            head.append(f"**Running on**: {seen[1].host} (pid {seen[1].pid})")
    if other_active:
        head.append(f"**Also active**: {', '.join(other_active[:5])}")
    head.append("")

    reload: list[str] = [status_rel]
    if newest:
        reload.append(newest.path)
    if has_progress:
        reload.append(progress_path)
    if newest:
        reload.extend(newest.files)
        reload.extend(files_from_content(newest.content or ""))
    reload = list(dict.fromkeys(reload))[:15]
    files_md = ["## Files to reload", *[f"- {p}" for p in reload], ""]

    steps = ws.steps(task.id, limit=12)
    open_first = [s for s in steps if s.state != "done"][-6:]
    done_tail = [s for s in steps if s.state == "done"][-6:]
    shown = sorted({s.id: s for s in [*done_tail, *open_first]}.values(), key=lambda s: s.id)
    steps_md: list[str] = []
    if shown:
        steps_md = ["## Progress", *[f"- {STEP_STATES[s.state]} {s.text[:200]}" for s in shown], ""]

    last_ts, since = _since_last(ws, task)
    since_md = (
        [f"## Since the last recovery ({last_ts or 'none before'})", *since, ""] if since else []
    )

    def assemble(cp_block: list[str], with_since: bool = True, with_steps: bool = True) -> str:
        parts = (
            head
            + cp_block
            + (steps_md if with_steps else [])
            + files_md
            + (since_md if with_since else [])
        )
        return "\n".join(parts)

    # The checkpoint matters more than what changed since the last recovery, and more than the
    # progress list: each of those is dropped, in that order, when the checkpoint would not fit
    # whole with it (the progress list is kept if an excerpt of the checkpoint fits beside it).
    text = ""
    checkpoint_info: dict[str, Any] = {}
    for with_since, with_steps in ((True, True), (False, True), (False, False)):
        fitted = functools.partial(assemble, with_since=with_since, with_steps=with_steps)
        cp_block: list[str] = []
        if newest and newest.content is not None:
            cp_block, checkpoint_info = _fit_checkpoint(
                newest, fitted, fits, bound, ws.config.excerpt_lines
            )
        text = fitted(cp_block)
        if fits(text, bound) and (
            not checkpoint_info.get("excerpt")
            or (not with_since and checkpoint_info.get("lines_shown", 0) > 0)
        ):
            break
    if not fits(text, bound) and newest is not None:
        # Not even the excerpt's frame fits: point at the file (the head names it too), so that
        # the files to reload still fit.
        pointer = ["(Checkpoint too long for this bound: read the file named above.)", ""]
        text = assemble(pointer, with_since=False, with_steps=False)
        checkpoint_info.update(excerpt=True, lines_shown=0)
        while not fits(text, bound) and len(files_md) > 4:
            files_md = [*files_md[:-2], ""]  # fewer files listed; the JSON keeps them all
            text = assemble(pointer, with_since=False, with_steps=False)
    if not fits(text, bound):
        # Names of the maximum length at the smallest bounds: a compact head (the id once, no
        # phase list, no dates) and the first files, so that all are named before any blind cut.
        def compact(nxt: str) -> str:
            return "\n".join(
                [
                    "# Recovery brief",
                    f"Task: {task.id}",
                    f"Phase: {cur.name if cur else '—'}",
                    f"Next action: {nxt}",
                    f"Newest checkpoint: {newest.path if newest else 'none yet'}",
                    f"Reload: {status_rel}" + (", then that checkpoint" if newest else ""),
                ]
            )

        nxt = "—"
        if task.next_action:
            room = bound - tight(compact("…"))  # what the next action may take
            nxt = _clip(task.next_action, room, fits) if room > 1 else "…"
        text = compact(nxt)
        if newest is not None:
            checkpoint_info.update(excerpt=True, lines_shown=0)
    if not fits(text, bound):
        text = _hard_cut(text, bound, fits)
    data = {
        "newest_checkpoint": checkpoint_info or None,
        "other_active": other_active,
        "next_action": task.next_action,
    }
    return Brief(
        text,
        measure(text),
        exact,
        bound,
        trigger,
        task.id,
        cur.name if cur else None,
        newest.path if newest else None,
        tuple(reload),
        data,
    )


def _fit_checkpoint(
    cp: Checkpoint,
    assemble: Callable[[list[str]], str],
    fits: Fits,
    bound: int,
    excerpt_lines: int,
) -> tuple[list[str], dict[str, Any]]:
    content = cp.content or ""
    lines = content.rstrip("\n").splitlines()
    title = f"## Checkpoint {cp.kind} v{cp.version} ({cp.path})"

    def block(n: int, cut_chars: int | None = None) -> list[str]:
        body = lines[:n]
        if cut_chars is not None and body:
            body = [*body[:-1], body[-1][:cut_chars]]
        out = [title, "", *body]
        if n < len(lines) or cut_chars is not None:
            rest = len(lines) - n
            out.append(
                f"\n[… excerpt: first {n} of {len(lines)} lines shown"
                + (f", {rest} more" if rest else "")
                + f"; read {cp.path} for the rest]"
            )
        out.append("")
        return out

    info = {
        "path": cp.path,
        "kind": cp.kind,
        "version": cp.version,
        "lines": len(lines),
        "excerpt": False,
    }
    # Gallop from excerpt_lines (doubling) and then binary-search, so that a multi-megabyte
    # checkpoint is measured in pieces near the size that fits, never whole over and over.
    total = len(lines)
    lo, hi, probe = 0, total, max(1, min(excerpt_lines, total))
    while True:
        if probe >= total:
            if fits(assemble(block(total)), bound):
                return block(total), info
            hi = total - 1
            break
        if fits(assemble(block(probe)), bound):
            lo, probe = probe, probe * 2
        else:
            hi = probe - 1
            break
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(assemble(block(mid)), bound):
            lo = mid
        else:
            hi = mid - 1
    info["excerpt"] = True
    info["lines_shown"] = lo
    if lo == 0 and lines:
        # Even one line is too long: show a prefix of it.
        first = lines[0]
        a, b = 0, len(first)
        while a < b:
            mid = (a + b + 1) // 2
            if fits(assemble(block(1, mid)), bound):
                a = mid
            else:
                b = mid - 1
        if a > 0:
            return block(1, a), info
    return block(lo), info


def _clip(text: str, budget: int, fits: Fits) -> str:
    """``text``, or its longest prefix that fits ``budget`` tokens followed by '…'."""
    if fits(text, budget):
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid] + "…", budget):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def _hard_cut(text: str, bound: int, fits: Fits) -> str:
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid] + "\n[… cut to fit]", bound):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "\n[… cut to fit]"


def recover(
    ws: Workspace,
    *,
    trigger: str = "manual",
    task_id: str | None = None,
    max_tokens: int | None = None,
    exact: bool = False,
    safe_point: bool | None = None,
    note: str | None = None,
    also: Callable[[Tx, Brief, str], None] | None = None,
) -> Brief:
    """Build the brief and log the recovery (store row, event, ``logs/compaction_recovery.log``).

    ``also(tx, brief, ts)`` writes more in the same commit, after the recovery's event (the
    session-start hook's note of the brief it handed over: one durable commit, not two)."""
    from cairn.domain.base import now
    from cairn.domain.journal import append

    brief = build_brief(ws, task_id=task_id, max_tokens=max_tokens, trigger=trigger, exact=exact)
    ts = now()
    with ws.store.write() as tx:
        # The brief knew the journal up to here; the recovery's own event comes next.
        last_event = tx.events.last_id()
        tx.recoveries.add(
            ts=ts,
            trigger=trigger,
            task_id=brief.task_id,
            phase=brief.phase,
            checkpoint=brief.checkpoint,
            reloaded=brief.reloaded,
            safe_point=safe_point,
            note=note,
            last_event=last_event + 1,
        )
        append(
            tx,
            brief.task_id,
            "recovery",
            ts,
            trigger=trigger,
            phase=brief.phase,
            checkpoint=brief.checkpoint,
            tokens=brief.tokens,
        )
        if also is not None:
            also(tx, brief, ts)
    from cairn.domain.notices import Change

    # The recovery log and the status file follow in one flush, before this returns.
    ws.announce(Change("recovery", brief.task_id))
    ws.projector.render_status()
    return brief


def render_log(rows: Sequence[RecoveryRow]) -> str:
    out: list[str] = []
    for r in rows:
        during = f"{r.task_id or 'no task'}" + (f" / phase {r.phase}" if r.phase else "")
        extra = ""
        if r.safe_point is not None:
            extra = ", safe point" if r.safe_point else ", SUBOPTIMAL: mid-phase"
        out.append(
            f"{r.ts}: {_TRIGGER_WORDS.get(r.trigger, 'Recovery during')} {during} "
            f"(trigger: {r.trigger}{extra})"
        )
        out.append(f"Recovery: Loaded checkpoint from {r.checkpoint or '(none yet)'}")
        out.append(f"Context recovered: {', '.join(r.reloaded)}")
        if r.note:
            out.append(f"Note: {r.note}")
        out.append("")
    return "\n".join(out)
