"""The readable tree, projected from the store: artifacts, the status file, the recovery log.

Each file is replaced atomically under a lock, always from the store's newest state. A projected
artifact that someone edited by hand is noticed by its content hash and ingested as a new version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core.fsutil import atomic_write, file_lock, remove_stale_temps

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx

SCHEMA_STATUS = "cairn.status/1"
RECOVERY_LOG_ENTRIES = 1000

# Sections that other parts of cairn add to the status, as "module:function". Each function takes
# the workspace and a read transaction and returns (json key, data, markdown) or None. Modules named
# here must stay light to import: the status is rendered after every command.
StatusSection = Callable[["Workspace", "Tx"], "tuple[str, Any, str] | None"]
STATUS_SECTION_PROVIDERS: list[str] = [
    "cairn.domain.phase_status:status_section",
    "cairn.domain.workers:status_section",
    "cairn.domain.reviews:status_section",
    "cairn.domain.budget:status_section",
    "cairn.domain.compactions:status_section",
]


def _status_sections() -> list[StatusSection]:
    import importlib

    found: list[StatusSection] = []
    for spec in STATUS_SECTION_PROVIDERS:
        module_name, func = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # that feature is not part of this build
                continue
            raise
        found.append(getattr(module, func))
    return found


class Projector:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.lock_path = ws.cairn_dir / "projection.lock"
        # Folders already checked, by (device, inode) of what the path led to: one stat instead
        # of a full resolve per write, and a folder swapped for a symlink is checked again.
        self._checked: dict[str, tuple[int, int, Path]] = {}
        # Inside Workspace.batch() artifacts and the status file are projected once, when the
        # batch ends: the writes are durable at once, the readable tree catches up at the end.
        self._batch_depth = 0
        self._status_dirty = False
        self._pending: set[tuple[str, str]] = set()

    def target(self, rel: str) -> Path:
        """The file a projection writes, refused if a symlinked folder would put it outside the
        workspace (a final symlink is harmless: the atomic rename replaces the link itself)."""
        from cairn.core.errors import ValidationError

        parent, _, name = rel.rpartition("/")
        try:
            st = os.stat(self.ws.root / parent)
            seen = self._checked.get(parent)
            if seen is not None and seen[:2] == (st.st_dev, st.st_ino):
                return seen[2] / name
        except FileNotFoundError:
            st = None
        root = self.ws.root.resolve()
        folder = (root / rel).parent.resolve()
        if folder != root and root not in folder.parents:
            raise ValidationError(
                f"{rel} would be written to {folder}, outside the workspace {root} (a symlinked "
                "folder?); make it a plain folder inside the workspace. The store is unchanged "
                "and `cairn status` rewrites the file once it is"
            )
        if st is not None:
            self._checked[parent] = (st.st_dev, st.st_ino, folder)
        return folder / Path(rel).name

    # -- artifacts -------------------------------------------------------------------------------
    def after_change(self) -> None:
        if self._batch_depth:
            self._status_dirty = True
            return
        self.render_status()

    def after_checkpoint(self, task_id: str, kind: str) -> None:
        if self._batch_depth:
            self._pending.add((task_id, kind))
            self._status_dirty = True
            return
        with file_lock(self.lock_path):
            self._project_artifact(task_id, kind)
            self._render_status_locked()

    def begin_batch(self) -> None:
        self._batch_depth += 1

    def end_batch(self) -> None:
        self._batch_depth -= 1
        if self._batch_depth or not self._status_dirty:
            return
        pending, self._pending, self._status_dirty = sorted(self._pending), set(), False
        with file_lock(self.lock_path):
            for task_id, kind in pending:
                # Also notices a hand edit made during the batch (ingested, not overwritten).
                self._project_artifact(task_id, kind)
            self._render_status_locked()

    def _project_artifact(self, task_id: str, kind: str) -> None:
        found = self.ws.artifact_content(task_id, kind)
        if found is None:
            return
        row = {"content": found[0], "hash": found[1]}
        rel = self.ws.artifact_path(task_id, kind)
        path = self.target(rel)
        try:
            with open(path, "rb") as fh:
                current: bytes | None = fh.read()
        except FileNotFoundError:
            current = None
        if current is not None:
            digest = hashlib.sha256(current).hexdigest()
            if digest == row["hash"]:
                return  # already the newest version
            with self.ws.store.read() as tx:
                prow = tx.one(
                    "SELECT path, task_id, kind, hash, prev_hash FROM projections WHERE path = ?",
                    (rel,),
                )
            if (
                prow is not None
                and digest != prow["prev_hash"]
                and not self._is_stored_version(prow, digest)
                and self._ingest(prow, current)
            ):
                # Edited by hand after the last check (e.g. while a write committed): the edit
                # is now the newest version, kept as it is rather than overwritten.
                return
        atomic_write(path, row["content"].encode("utf-8"))
        # Seen on disk: the next write's record keeps this hash as the file's known content.
        st = os.stat(path)
        with self.ws.store.light_write() as tx:
            tx.projections.set_stat(rel, st.st_mtime_ns, st.st_size, hash=row["hash"])

    def reconcile(self, only: tuple[str, str] | None = None) -> list[str]:
        """Bring artifacts in line with the store; ingest hand edits. Returns the ingested paths."""
        ingested: list[str] = []
        stats: list[tuple[int, int, str, str]] = []
        if only is not None and only in self._pending:
            return ingested  # projected when the batch ends; its file is stale on purpose
        with file_lock(self.lock_path):
            if only is None:
                # A process killed mid-write leaves its temporary file; the next command clears it.
                self._remove_stale_temps()
                self._check_recovery_log()
                if not os.path.exists(f"{self.ws.root}{os.sep}{self.ws.config.status_file}"):
                    self._render_status_locked()  # deleted by hand: back at once
            # Runs before every command over every artifact, so the first pass reads only what
            # the stat comparison needs, with plain strings (pathlib objects and wide rows cost
            # more than the stat itself with thousands of artifacts); the rare changed or missing
            # file is then looked at in full.
            cols = "path, mtime_ns, size"
            with self.ws.store.read() as tx:
                if only:
                    rows = tx.execute(
                        f"SELECT {cols} FROM projections WHERE task_id = ? AND kind = ?", only
                    )
                else:
                    rows = tx.execute(f"SELECT {cols} FROM projections")
            if only is not None and not rows:
                # Nothing projected there yet: a file found at that path is someone's work.
                self._adopt_found(*only)
                return ingested
            prefix = str(self.ws.root) + os.sep
            stat = os.stat
            suspects: list[tuple[str, os.stat_result | None]] = []
            for row in rows:
                try:
                    st = stat(prefix + row["path"])
                except FileNotFoundError:
                    suspects.append((row["path"], None))
                    continue
                if row["mtime_ns"] != st.st_mtime_ns or row["size"] != st.st_size:
                    suspects.append((row["path"], st))
            for rel, seen in suspects:
                with self.ws.store.read() as tx:
                    full = tx.one(
                        "SELECT path, task_id, kind, hash, prev_hash FROM projections "
                        "WHERE path = ?",
                        (rel,),
                    )
                if full is None:
                    continue
                if seen is None:
                    self._project_artifact(full["task_id"], full["kind"])
                    continue
                with open(prefix + rel, "rb") as fh:
                    data = fh.read()
                digest = hashlib.sha256(data).hexdigest()
                if digest == full["hash"]:
                    stats.append((seen.st_mtime_ns, seen.st_size, rel, digest))
                elif digest == full["prev_hash"] or self._is_stored_version(full, digest):
                    # A stale projection: the process that wrote a newer version died before
                    # projecting it. Not a hand edit, so it is replaced, not ingested.
                    self._project_artifact(full["task_id"], full["kind"])
                elif self._ingest(full, data):
                    ingested.append(rel)
            # Record size and mtime so later full passes skip hashing; not worth a write
            # transaction when checking the one artifact a write is about to replace.
            if stats and only is None:
                with self.ws.store.light_transaction() as wtx:
                    for mtime, size, p, digest in stats:
                        wtx.execute(
                            "UPDATE projections SET mtime_ns = ?, size = ? WHERE path = ? AND "
                            "hash = ?",
                            (mtime, size, p, digest),
                        )
            if ingested:
                self._render_status_locked()
        return ingested

    def _adopt_found(self, task_id: str, kind: str) -> bool:
        """Keep a file found where a first version is about to be projected (left by a store
        that was re-initialised, a restored copy, a planted file) as version 1, source
        hand-edit, so that the write about to follow supersedes it and history keeps it."""

        rel = self.ws.artifact_path(task_id, kind)
        try:
            with open(self.target(rel), "rb") as fh:
                found = fh.read()
        except (FileNotFoundError, IsADirectoryError):
            return False
        with self.ws.store.read() as tx:
            if tx.projections.owner(rel) is not None:
                return False
        row = {"path": rel, "task_id": task_id, "kind": kind, "hash": None}
        return self._ingest(row, found)

    def _is_stored_version(self, row: dict[str, Any], digest: str) -> bool:
        """Whether the file holds some stored version (left behind by writers killed in a row)."""
        return self.ws.is_known_content(row["task_id"], row["kind"], digest)

    def _ingest(self, row: dict[str, Any], data: bytes) -> bool:
        from cairn.core.errors import CairnError
        from cairn.domain.workspace import now

        try:
            text, data = self.ws._coerce_content(data)
        except CairnError as exc:
            # Not storable (not UTF-8, over the size limit). The person's bytes are moved next to
            # the artifact, where no write replaces them, and the artifact gets the store's
            # newest version back: nothing is lost, and the refusal is journaled once.
            stamp = now().replace("-", "").replace(":", "").replace(".", "")
            kept = f"{row['path']}.refused-{stamp}"
            try:
                os.replace(self.ws.root / row["path"], self.ws.root / kept)
            except FileNotFoundError:
                return False
            self.ws.record_event(
                row["task_id"],
                "checkpoint.hand_edit_refused",
                path=row["path"],
                reason=str(exc),
                kept_as=kept,
            )
            self._project_artifact(row["task_id"], row["kind"])
            return False
        with self.ws.store.transaction() as tx:
            current = tx.one("SELECT hash FROM projections WHERE path = ?", (row["path"],))
            if (current["hash"] if current else None) != row["hash"]:
                return False  # another process wrote meanwhile; the next reconcile looks again
            self.ws._insert_checkpoint(
                tx, row["task_id"], row["kind"], text, data, (), None, "hand-edit", now()
            )
        st = os.stat(self.ws.root / row["path"])
        with self.ws.store.light_transaction() as wtx:
            wtx.execute(
                "UPDATE projections SET mtime_ns = ?, size = ? WHERE path = ?",
                (st.st_mtime_ns, st.st_size, row["path"]),
            )
        return True

    # -- status ----------------------------------------------------------------------------------
    def render_status(self) -> None:
        with file_lock(self.lock_path):
            self._render_status_locked()

    def _render_status_locked(self) -> None:
        data = status_data(self.ws)
        atomic_write(
            self.target(self.ws.config.status_file), render_status_md(data).encode("utf-8")
        )

    # -- recovery log ----------------------------------------------------------------------------
    def render_recovery_log(self) -> None:
        with file_lock(self.lock_path):
            self._render_recovery_log_locked()

    def recovery_log_text(self) -> str:
        """The recovery log as the store says it should read."""
        from cairn.recovery.brief import render_log

        # The file holds the most recent RECOVERY_LOG_ENTRIES recoveries, so that rewriting it
        # after each recovery stays cheap after months of them; all are kept in the store.
        with self.ws.store.read() as tx:
            rows = tx.recoveries.recent(RECOVERY_LOG_ENTRIES)
            earlier = (
                tx.recoveries.count(before_id=rows[0].id)
                if len(rows) == RECOVERY_LOG_ENTRIES
                else 0
            )
        text = render_log(rows)
        if earlier:
            text = (
                f"({earlier} earlier recoveries are in the store: "
                "`cairn log --type recovery --limit N`)\n\n" + text
            )
        return text

    def _recovery_log_path(self) -> Path:
        return self.target(f"{self.ws.config.logs_dir}/compaction_recovery.log")

    def _render_recovery_log_locked(self) -> None:
        atomic_write(self._recovery_log_path(), self.recovery_log_text().encode("utf-8"))

    def _check_recovery_log(self) -> None:
        """Re-render the log if it lacks the newest recovery (its writer was killed before
        rendering it) or is gone. Cheap: one query and the end of the file."""
        with self.ws.store.read() as tx:
            last = tx.one("SELECT id, ts FROM recoveries ORDER BY id DESC LIMIT 1")
            # Timestamps have millisecond precision: count the newest ones that share it.
            same = (
                tx.scalar(
                    "SELECT count(*) FROM recoveries WHERE id > ? AND ts = ?",
                    (last["id"] - 50, last["ts"]),
                )
                if last
                else 0
            )
        path = self._recovery_log_path()
        try:
            with open(path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                fh.seek(max(0, size - 65536))
                tail = fh.read().decode("utf-8", "replace")
        except FileNotFoundError:
            self._render_recovery_log_locked()
            return
        if last is None:
            if tail:
                self._render_recovery_log_locked()
            return
        head = f"{last['ts']}: "
        if tail.count(f"\n{head}") + tail.startswith(head) < same:
            self._render_recovery_log_locked()

    def _remove_stale_temps(self) -> None:
        for d in (
            self.ws.cairn_dir,
            self.ws.root / self.ws.config.artifacts_dir,
            self.ws.root / self.ws.config.logs_dir,
            (self.ws.root / self.ws.config.status_file).parent,
        ):
            remove_stale_temps(d)

    def refresh_all(self) -> None:
        self.reconcile()
        with file_lock(self.lock_path):
            with self.ws.store.read() as tx:
                pairs = [
                    (r["task_id"], r["kind"])
                    for r in tx.execute("SELECT task_id, kind FROM projections")
                ]
            for task_id, kind in pairs:
                self._project_artifact(task_id, kind)
            self._render_status_locked()
            self._render_recovery_log_locked()


# -- status data and rendering -------------------------------------------------------------------
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
        for section in _status_sections():
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
    total_steps = tx.steps.count(task_id)
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


def safe_unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
