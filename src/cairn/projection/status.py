"""The status file, ``CURRENT_WORK_STATUS.md``: its data (``cairn status --json``) and its text.

Rendered once per flush of the projector, not once per write. Sections that other parts of cairn
add are imported only when the store holds what they show.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx

SCHEMA_STATUS = "cairn.status/1"

# Sections that other parts of cairn add to the status, as "module:function" or
# "module:function@table". Each function takes the workspace and a read transaction and returns
# (json key, data, markdown) or None. With "@table" the module is imported only when that table
# has a row: most workspaces never run a worker or a review, and the status is rendered after
# every command, so their modules stay unloaded.
StatusSection = Callable[["Workspace", "Tx"], "tuple[str, Any, str] | None"]
STATUS_SECTION_PROVIDERS: list[str] = [
    "cairn.domain.phase_status:status_section@phase_runs",
    "cairn.domain.workers:status_section@workers",
    "cairn.domain.reviews:status_section@reviews",
    "cairn.domain.budget:status_section@budget_ledger",
    "cairn.domain.compactions:status_section@compactions",
]


def _status_sections(tx: Tx) -> list[StatusSection]:
    found: list[StatusSection] = []
    for spec in STATUS_SECTION_PROVIDERS:
        spec, _, table = spec.partition("@")
        if table and tx.one(f"SELECT 1 FROM {table} LIMIT 1") is None:
            continue  # nothing to show: its module is not even imported
        module_name, func = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # that feature is not part of this build
                continue
            raise
        found.append(getattr(module, func))
    return found


def status_data(ws: Workspace, *, detail_limit: int = 10, list_limit: int = 15) -> dict[str, Any]:
    from cairn.core.model import Phase, Task
    from cairn.domain.workspace import now

    with ws.store.read() as tx:
        counts = {
            "tasks": tx.scalar("SELECT count(*) FROM tasks") or 0,
            "checkpoint_versions": _checkpoint_versions(tx),
        }
        active_ids = [
            r["task_id"]
            for r in tx.execute(
                "SELECT p.task_id FROM phases p JOIN tasks t ON t.id = p.task_id "
                "WHERE p.state = 'active' ORDER BY t.updated_at DESC LIMIT ?",
                (detail_limit,),
            )
        ]
        if not active_ids:
            # Nothing active: the most recently touched unfinished task is where work resumes.
            row = tx.one(
                "SELECT t.id FROM tasks t WHERE EXISTS (SELECT 1 FROM phases p WHERE "
                "p.task_id = t.id AND p.state != 'done') ORDER BY t.updated_at DESC LIMIT 1"
            )
            active_ids = [row["id"]] if row else []
        detail = [_task_detail(ws, tx, tid) for tid in active_ids]
        others = [
            r
            for r in tx.execute(
                "SELECT t.id, t.title, t.created_at, t.updated_at, t.next_action FROM tasks t "
                "ORDER BY t.updated_at DESC LIMIT ?",
                (list_limit + len(active_ids),),
            )
            if r["id"] not in active_ids
        ][:list_limit]
        # One query for the phases of all listed tasks (this runs after every command).
        phases: dict[str, list[Phase]] = {r["id"]: [] for r in others}
        if others:
            marks = ",".join("?" * len(others))
            for p in tx.execute(
                f"SELECT * FROM phases WHERE task_id IN ({marks}) ORDER BY task_id, position",
                [r["id"] for r in others],
            ):
                phases[p["task_id"]].append(
                    Phase(
                        p["name"],
                        p["position"],
                        p["state"],
                        bool(p["gated"]),
                        p["started_at"],
                        p["finished_at"],
                        p["error"],
                    )
                )
        other_tasks: list[dict[str, Any]] = []
        for r in others:
            task = Task(
                r["id"],
                r["title"],
                r["created_at"],
                r["updated_at"],
                r["next_action"],
                tuple(phases[r["id"]]),
            )
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
            {"task": r["task_id"], "phase": r["name"], "error": r["error"], "at": r["finished_at"]}
            for r in tx.execute(
                "SELECT task_id, name, error, finished_at FROM phases WHERE state = 'failed' "
                "ORDER BY finished_at DESC LIMIT 5"
            )
        ]
        recoveries = [
            {
                "ts": r["ts"],
                "trigger": r["trigger"],
                "task": r["task_id"],
                "phase": r["phase"],
                "checkpoint": r["checkpoint"],
                "safe_point": r["safe_point"],
            }
            for r in tx.execute("SELECT * FROM recoveries ORDER BY id DESC LIMIT 3")
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


def _checkpoint_versions(tx: Tx) -> int:
    # Kept up to date by a trigger (migration 0007); counted on a store without it.
    kept = tx.scalar("SELECT value FROM meta WHERE key = 'checkpoint_versions'")
    if kept is not None:
        return int(kept)
    return int(tx.scalar("SELECT count(*) FROM checkpoints") or 0)


def _task_detail(ws: Workspace, tx: Tx, task_id: str) -> dict[str, Any]:
    task = ws._load_task(tx, ws._task_row(tx, task_id))
    cur = task.current_phase
    newest = tx.one(
        "SELECT kind, version, created_at, files FROM checkpoints WHERE task_id = ? AND kind != "
        "'progress' ORDER BY seq DESC LIMIT 1",
        (task_id,),
    )
    steps = ws._steps(tx, task_id, limit=8)
    total_steps = tx.scalar("SELECT count(*) FROM steps WHERE task_id = ?", (task_id,)) or 0
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
            "kind": newest["kind"],
            "version": newest["version"],
            "path": ws.artifact_path(task_id, newest["kind"]),
            "created_at": newest["created_at"],
            "files": json.loads(newest["files"]),
        },
        "steps": [{"text": s.text, "state": s.state, "phase": s.phase} for s in steps],
        "steps_total": total_steps,
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
        icon = "⏳" if t["state"] == "active" else "⏸️"
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
