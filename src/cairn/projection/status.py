"""The status file, ``CURRENT_WORK_STATUS.md``: its data (``cairn status --json``) and its text.

Rendered once per flush of the projector, not once per write. Sections that other parts of cairn
add are imported only when the store holds what they show.
"""

from __future__ import annotations

from collections.abc import Callable

from cairn.core.stdlib_start import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core.model import Task
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx
    from cairn.store.contract.checkpoints import CheckpointRow
    from cairn.store.contract.steps import StepRow
    from cairn.store.contract.tasks import PhaseRow, TaskRow

SCHEMA_STATUS = "cairn.status/1"

# Sections that other parts of cairn add to the status, as "module:function" or
# "module:function@table". Each function takes the workspace and a read transaction and returns
# (json key, data, markdown) or None. With "@table" the module is imported only when that table
# has a row: most workspaces never run a worker or a review, and the status is rendered after
# every command, so their modules stay unloaded.
StatusSection = Callable[["Workspace", "Tx"], "tuple[str, Any, str] | None"]
STATUS_SECTION_PROVIDERS: list[str] = [
    "cairn.domain.phase_status:status_section@phase_runs",
    "cairn.domain.phase_status:running_section@phase_runs",
    "cairn.domain.workers:status_section@workers",
    "cairn.domain.reviews:status_section@reviews",
    "cairn.domain.budget:status_section@budget_ledger",
    "cairn.domain.compactions:status_section@compactions",
]


def _status_sections(tx: Tx) -> list[StatusSection]:
    found: list[StatusSection] = []
    specs = [spec.partition("@") for spec in STATUS_SECTION_PROVIDERS]
    # One look-up for every section's table, not one each: this runs in every flush.
    held = tx.meta.holding(tuple(dict.fromkeys(table for _s, _, table in specs if table)))
    for spec, _, table in specs:
        if table and table not in held:
            continue  # nothing to show: its module is not even imported
        module_name, func = spec.split(":")
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # that feature is not part of this build
                continue
            raise
        found.append(getattr(module, func))
    return found


def status_data(ws: Workspace, *, detail_limit: int = 10, list_limit: int = 15) -> dict[str, Any]:
    with ws.store.read() as tx:
        return status_in(ws, tx, detail_limit=detail_limit, list_limit=list_limit)


def status_in(
    ws: Workspace, tx: Tx, *, detail_limit: int = 10, list_limit: int = 15
) -> dict[str, Any]:
    """``status_data`` inside the caller's read transaction (the flush reads all in one)."""
    from cairn.domain.workspace import now

    counts = {"tasks": tx.tasks.count(), "checkpoint_versions": tx.checkpoints.count()}
    # Through the active phases (an index on the state): Tasks.active() scans every task. Each
    # read below covers every task it is about: on a server each is a round trip, and this runs
    # after every command and in every flush.
    active_ids = list(dict.fromkeys(p.task_id for p in tx.tasks.active_phases(limit=detail_limit)))
    found = tx.tasks.get_many(active_ids) if active_ids else {}
    active: list[TaskRow] = [found[t] for t in active_ids if t in found]
    if not active:
        # Nothing active: the most recently touched unfinished task is where work resumes.
        active = tx.tasks.unfinished(limit=1)
    active_ids = [t.id for t in active]
    others = [t for t in tx.tasks.recent(limit=list_limit + len(active_ids))]
    others = [t for t in others if t.id not in active_ids][:list_limit]
    listed = [*active_ids, *(t.id for t in others)]
    phases = tx.tasks.phases_of(listed) if listed else {}
    detail = []
    if active_ids:
        newest = tx.checkpoints.newest_of_tasks(active_ids, exclude=("progress",), content=False)
        tails = tx.steps.tails(active_ids, limit=8)
        detail = [
            _task_detail(ws, t, phases.get(t.id, []), newest.get(t.id), *tails[t.id])
            for t in active
        ]
    other_tasks = []
    for t in others:
        task = _task(t, phases.get(t.id, []))
        cur = task.current_phase
        other_tasks.append(
            {
                "id": task.id,
                "title": task.title,
                "state": task.state,
                "phase": cur.name if cur else None,
                "updated_at": task.updated_at,
            }
        )
    failures = [
        {"task": p.task_id, "phase": p.name, "error": p.error, "at": p.finished_at}
        for p in tx.tasks.failed_phases(limit=5)
    ]
    recoveries = [
        {
            "ts": r.ts,
            "trigger": r.trigger,
            "task": r.task_id,
            "phase": r.phase,
            "checkpoint": r.checkpoint,
            "safe_point": r.safe_point,
        }
        for r in reversed(tx.recoveries.recent(3))
    ]
    extra: dict[str, Any] = {}
    extra_md: list[str] = []
    for section in _status_sections(tx):
        got = section(ws, tx)
        if got:
            key, value, md = got
            extra[key] = value
            if md:
                extra_md.append(md)
    return {
        "schema": SCHEMA_STATUS,
        "generated_at": now(),
        "workspace": str(ws.root),
        "counts": counts,
        "active": detail,
        "other_tasks": other_tasks,
        "failures": failures,
        "recoveries": recoveries,
        "sections": extra,
        "_extra_md": extra_md,
    }


def _task(row: TaskRow, phases: list[PhaseRow]) -> Task:
    from cairn.core.model import Phase, Task

    return Task(
        row.id,
        row.title,
        row.created_at,
        row.updated_at,
        row.next_action,
        tuple(
            Phase(p.name, p.position, p.state, p.gated, p.started_at, p.finished_at, p.error)
            for p in phases
        ),
    )


def _task_detail(
    ws: Workspace,
    row: TaskRow,
    phases: list[PhaseRow],
    newest: CheckpointRow | None,
    steps: list[StepRow],
    steps_total: int,
) -> dict[str, Any]:
    task = _task(row, phases)
    cur = task.current_phase
    return {
        "id": task.id,
        "title": task.title,
        "state": task.state,
        "phase": cur.name if cur else None,
        "phase_position": cur.position if cur else None,
        "phases": [{"name": p.name, "state": p.state, "gated": p.gated} for p in task.phases],
        "next_action": task.next_action,
        "newest_checkpoint": None
        if newest is None
        else {
            "kind": newest.kind,
            "version": newest.version,
            "path": ws.artifact_path(row.id, newest.kind),
            "created_at": newest.created_at,
            "files": list(newest.files),
        },
        "steps": [{"text": s.text, "state": s.state, "phase": s.phase} for s in steps],
        "steps_total": steps_total,
        "updated_at": task.updated_at,
    }


def render_status_md(data: dict[str, Any]) -> str:
    from cairn.core.model import PHASE_ICONS, STEP_STATES

    out = [
        "# Current Work Status",
        "",
        f"_Generated by cairn at {data['generated_at']} from the store; rewritten after every "
        "command. Edit checkpoints in artifacts/, not this file._",
        "",
    ]
    if not data["active"]:
        out += ["**No open task.** Create one with `cairn task new TASK --phases ...`.", ""]
    for t in data["active"]:
        icon = PHASE_ICONS.get(t["state"], "⏸️")  # a failed task shows ❌, a blocked one ⛔
        out.append(f"## {icon} {t['id']}: {t['title'] or t['id']} ({t['state']})")
        out.append("")
        phases = " · ".join(f"{p['name']} {PHASE_ICONS[p['state']]}" for p in t["phases"])
        out.append(f"**Phase**: {t['phase']} ({t['phase_position']}/{len(t['phases'])}) — {phases}")
        out.append(f"**Next action**: {t['next_action'] or '—'}")
        cp = t["newest_checkpoint"]
        if cp:
            out.append(
                f"**Newest checkpoint**: {cp['path']} ({cp['kind']} v{cp['version']}, "
                f"{cp['created_at']})"
            )
        if t["steps"]:
            more = t["steps_total"] - len(t["steps"])
            out += [
                "",
                "**Progress**"
                + (f" (last {len(t['steps'])} of {t['steps_total']})" if more > 0 else "")
                + ":",
            ]
            out += [f"- {STEP_STATES[s['state']]} {s['text']}" for s in t["steps"]]
        out.append("")
    if data["failures"]:
        out += ["## ❌ Failures", ""]
        for f in data["failures"]:
            first = (f["error"] or "").strip().splitlines()
            last = first[-1] if first else "failed"
            if len(last) > 300:  # the whole error is in the journal; the status stays short
                last = (
                    f"{last[:300]}… (in full: `cairn log --task {f['task']} --type phase.failed`)"
                )
            out.append(f"- {f['task']} / {f['phase']} at {f['at']}: {last}")
        out.append("")
    out.extend(data.get("_extra_md", []))
    if data["other_tasks"]:
        out += ["## Other tasks", "", "| task | state | phase | updated |", "|---|---|---|---|"]
        for t in data["other_tasks"]:
            out.append(f"| {t['id']} | {t['state']} | {t['phase'] or '—'} | {t['updated_at']} |")
        shown = len(data["active"]) + len(data["other_tasks"])
        if data["counts"]["tasks"] > shown:
            out.append(f"\n_{data['counts']['tasks'] - shown} more; `cairn task list`._")
        out.append("")
    if data["recoveries"]:
        out += ["## Recent recoveries", ""]
        for r in data["recoveries"]:
            where = f"{r['task'] or '—'} / {r['phase'] or '—'}"
            out.append(
                f"- {r['ts']} ({r['trigger']}) during {where}; loaded "
                f"{r['checkpoint'] or 'no checkpoint'}"
            )
        out.append("")
    return "\n".join(out)


def public_status(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}
