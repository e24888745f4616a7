"""The seed's checkpoint templates, and the progress file rendered from steps."""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs ~3 ms of start-up (tests/test_lazy_imports.py)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cairn.core.model import Step, Task

TEMPLATES: dict[str, str] = {
    "analysis": """# {title} Analysis

**Task**: [What was asked]
**Findings**:
- [Finding, with the file and line it comes from]
**Files read**: [List]
**Open questions**: [List]
**Next action**: [What the plan phase should do]
""",
    "plan": """# {title} Implementation Plan

**Task**: [Brief description]
**Files to modify**: [List]
**Approach**: [Detailed steps]
**Tests needed**: [List]
**Estimated time**: [Hours]
""",
    "plan_approved": """# {title} Approved Plan

**Reviewer**: [Who approved, and the review id]
**Recommendation**: [What the reviewer asked for]

[The plan as approved]
""",
    "progress": """# {title} Progress

- ✅ Step 1: [What was done]
- ✅ Step 2: [What was done]
- ⏳ Step 3: [In progress]
- ⏸️ Step 4: [Not started]

**Current status**: [Description]
**Next action**: [What to do next]
""",
    "complete": """# {title} Complete

**Files modified**:
- scripts/foo.py (lines 123-456)
- scripts/bar.py (lines 78-90)

**Changes**:
1. Added [feature]
2. Refactored [component]
3. Fixed [issue]

**Tests run**: [Results]
**Ready for**: [Next phase]
""",
    "tested": """# {title} Test Results

**Tests run**: [Command and count]
**Passed**: [N]
**Failed**: [N, with names]
**Ready for**: [Next phase or done]
""",
}


def template(kind: str, title: str = "Finding #{N}") -> str:
    from cairn.core.errors import NotFound

    try:
        return TEMPLATES[kind].format(title=title)
    except KeyError:
        raise NotFound(
            f"no template for kind {kind!r}; templates exist for {', '.join(TEMPLATES)}"
        ) from None


def render_progress(task: Task, steps: list[Step], *, omitted: int = 0) -> str:
    return render_progress_lines(
        task, [(s.id, s.state, s.text, s.phase) for s in steps], omitted=omitted
    )


def render_progress_lines(
    task: Task, steps: Sequence[tuple[int, str, str, str | None]], *, omitted: int = 0
) -> str:
    """The progress file from (id, state, text, phase) of the steps shown (plain tuples: a step
    renders up to 200 of them)."""
    return progress_text(task, [progress_line(s) for s in steps], omitted=omitted)


def progress_line(step: tuple[int, str, str, str | None]) -> str:
    """One step's line of the progress file."""
    from cairn.core.model import STEP_STATES

    _id, state, text, phase = step
    return f"- {STEP_STATES[state]} {text} [{phase}]" if phase else f"- {STEP_STATES[state]} {text}"


def progress_text(task: Task, step_lines: Sequence[str], *, omitted: int = 0) -> str:
    """The progress file around the steps' lines (``progress_line``) already made."""
    title = task.title or task.id
    lines = [f"# {task.id}: {title} Progress", ""]
    if omitted > 0:
        lines += [
            f"_({omitted} earlier steps are not shown here; all are in the store: "
            f"`cairn task show {task.id}`)_",
            "",
        ]
    lines += step_lines
    if not step_lines:
        lines.append("- (no steps recorded yet)")
    cur = task.current_phase
    status = (
        f"phase {cur.name} {cur.state} ({cur.position}/{len(task.phases)})"
        if cur
        else ("all phases done" if task.phases else "no phases")
    )
    lines += [
        "",
        f"**Current status**: {status}",
        f"**Next action**: {task.next_action or '—'}",
        "",
    ]
    return "\n".join(lines)
