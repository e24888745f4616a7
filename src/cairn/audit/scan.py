"""Find transcripts under the given paths, stream each one through its reader, build the report.

Files are read by :class:`cairn.integrations.transcripts.Records`, one line at a time whatever the
file's size. A line that is not JSON (a crash mid-write leaves a half line) is reported with its
number and skipped.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.audit.analysis import CATEGORIES, SessionAnalyzer
from cairn.audit.claude import ClaudeReader
from cairn.audit.codex import CodexReader
from cairn.audit.estimate import Estimator
from cairn.core.errors import NotFound, UsageError
from cairn.integrations import claude, codex
from cairn.integrations.transcripts import Records, detect

SCHEMA = "cairn.audit/1"
_DETECT_RECORDS = 50  # records looked at before falling back to the file name


@dataclass
class FileGroup:
    """A session file and the subagent files that belong to it (or a lone subagent file)."""

    main: Path
    subagents: list[Path] = field(default_factory=list)


_is_agent_file = claude.is_subagent_file
_agent_id_from_name = claude.subagent_id


def _first_session_id(p: Path, limit: int = 20) -> str | None:
    records = Records(p)
    try:
        for _, rec, _ in records:
            if records.lines > limit:
                break
            if rec is not None and isinstance(rec.get("sessionId"), str):
                return str(rec["sessionId"])
    except OSError:
        return None
    return None


def _collect(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        if "\x00" in raw:
            raise UsageError("a transcript path contains a NUL byte")
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.jsonl") if q.is_file())
        elif p.is_file():
            found = [p]
        else:
            raise NotFound(
                f"{raw!r}: no such file or folder; give a transcript (.jsonl) or a folder such as "
                f"{claude.TRANSCRIPT_DIR} or {codex.TRANSCRIPT_DIR}"
            )
        for q in found:
            r = q.resolve()
            if r not in seen:
                seen.add(r)
                files.append(q)
    return files


def discover(paths: list[str]) -> list[FileGroup]:
    """Group the transcripts under ``paths``: each main session with its subagent files.

    A session file named explicitly brings its own subagents along
    (``<session>/subagents/agent-*.jsonl``, or ``agent-*.jsonl`` beside it with its session id).
    """
    files = _collect(paths)
    mains: dict[Path, FileGroup] = {}
    order: list[FileGroup] = []
    agents: list[Path] = []
    for f in files:
        if _is_agent_file(f):
            agents.append(f)
        else:
            g = FileGroup(main=f)
            mains[f.resolve()] = g
            order.append(g)
    attached: set[Path] = set()
    for g in order:  # subagents of the sessions, even when only the session file was named
        folder = g.main.with_suffix("") / "subagents"
        if folder.is_dir():
            for a in sorted(folder.glob("agent-*.jsonl")):
                g.subagents.append(a)
                attached.add(a.resolve())
    by_session: dict[str, list[Path]] = {}
    loose = [a for a in agents if a.resolve() not in attached]
    parents_dirs = {g.main.parent.resolve() for g in order}
    extra: list[Path] = []
    for d in parents_dirs:  # 2.0 layout: agent-*.jsonl beside the session files
        extra.extend(sorted(d.glob("agent-*.jsonl")))
    for a in [*loose, *extra]:
        r = a.resolve()
        if r in attached:
            continue
        attached.add(r)
        if a.parent.name == "subagents":
            sid: str | None = a.parent.parent.name
        else:
            sid = _first_session_id(a)
        by_session.setdefault(sid or "", []).append(a)
    lone: list[FileGroup] = []
    named = {x.resolve() for x in agents}
    for sid, group_agents in by_session.items():
        for a in group_agents:
            parent = mains.get((a.parent / f"{sid}.jsonl").resolve()) if sid else None
            if parent is None and a.parent.name == "subagents":
                parent = mains.get((a.parent.parent.parent / f"{sid}.jsonl").resolve())
            if parent is not None:
                parent.subagents.append(a)
            elif a.resolve() in named:
                lone.append(FileGroup(main=a))
    return order + lone


def analyze_file(
    path: Path,
    estimator: Estimator,
    *,
    window: int,
    max_points: int,
    is_subagent: bool = False,
) -> SessionAnalyzer:
    """Stream one transcript file through the reader for its format."""
    an = SessionAnalyzer(
        str(path), estimator, window=window, max_points=max_points, is_subagent=is_subagent
    )
    if is_subagent and _is_agent_file(path):
        an.agent_id = None  # the records' agentId first; the file name below if they have none

    def new_side(key: str) -> SessionAnalyzer:
        return SessionAnalyzer(
            f"{path}#{key}", estimator, window=window, max_points=max_points, is_subagent=True
        )

    reader: ClaudeReader | CodexReader | None = None
    pending: list[tuple[dict[str, Any], int]] = []

    def choose(fmt: str) -> ClaudeReader | CodexReader:
        if fmt == "codex":
            return CodexReader(an)
        return ClaudeReader(an, new_side)

    records = Records(path)
    try:
        for lineno, rec, error in records:
            if rec is None:
                an.bad_line(lineno, error or "not a JSON object")
                continue
            an.records += 1
            if reader is None:
                fmt = detect(rec)
                if fmt is None and len(pending) < _DETECT_RECORDS:
                    pending.append((rec, lineno))
                    continue
                reader = choose(fmt or _fallback_format(path))
                for prec, pline in pending:
                    reader.handle(prec, pline)
                pending.clear()
            reader.handle(rec, lineno)
    except OSError as exc:  # unreadable: reported on the file, the other files are still audited
        an.bad_line(records.lines, f"cannot read the file: {exc.strerror or exc}")
    an.lines = records.lines
    if reader is None:
        reader = choose(_fallback_format(path))
        for prec, pline in pending:
            reader.handle(prec, pline)
    reader.finish()
    if is_subagent and an.agent_id is None and _is_agent_file(path):
        an.agent_id = _agent_id_from_name(path)
    return an


def _fallback_format(path: Path) -> str:
    return "codex" if codex.is_rollout_file(path) else "claude"


def _agent_type(agent_file: Path) -> str | None:
    """``agent-<id>.meta.json`` beside a 2.1 subagent transcript: ``{"agentType": ...}``."""
    meta = agent_file.with_suffix(".meta.json")
    try:
        if meta.stat().st_size > 65536:
            return None
        data = json.loads(meta.read_bytes())
    except (OSError, ValueError):
        return None
    value = data.get("agentType") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def audit_paths(
    paths: list[str],
    *,
    estimate: str = "calibrated",
    window: int = 5,
    max_points: int = 2000,
) -> dict[str, Any]:
    """Audit every transcript under ``paths``; returns the ``cairn.audit/1`` document."""
    if not paths:
        raise UsageError("give at least one transcript file or folder")
    if window < 0:
        raise UsageError("--window must be 0 or more turns")
    if max_points < 2:
        raise UsageError("--points must be at least 2")
    estimator = Estimator(estimate)
    groups = discover(paths)
    if not groups:
        raise NotFound(
            f"no transcripts (*.jsonl) under {', '.join(paths)}; {claude.LABEL} keeps them in "
            f"{claude.TRANSCRIPTS}, {codex.LABEL} in {codex.TRANSCRIPTS}"
        )
    sessions: list[SessionAnalyzer] = []
    subagent_files = 0
    for g in groups:
        lone_agent = _is_agent_file(g.main)
        an = analyze_file(
            g.main, estimator, window=window, max_points=max_points, is_subagent=lone_agent
        )
        for sub_path in g.subagents:
            subagent_files += 1
            sub = analyze_file(
                sub_path, estimator, window=window, max_points=max_points, is_subagent=True
            )
            stat = sub.as_subagent(sub.agent_id or _agent_id_from_name(sub_path), "file")
            stat.agent_type = _agent_type(sub_path)
            an.merge_subagent(stat)
            _fold_problems(an, sub)
        sessions.append(an)
    sessions = _attach_codex_subagents(sessions)
    _link_continuations(sessions)
    docs = [s.to_json() for s in sessions]
    return {
        "schema": SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "estimate": estimator.describe(),
        "safe_window_turns": window,
        "paths": [os.fspath(p) for p in paths],
        "files": len(groups) + subagent_files,
        "sessions": docs,
        "totals": _totals(docs, subagent_files),
    }


def _fold_problems(parent: SessionAnalyzer, sub: SessionAnalyzer) -> None:
    """A subagent file's malformed lines and unknown records show up on its session."""
    for m in sub.malformed:
        if len(parent.malformed) < 50:
            parent.malformed.append({"path": sub.path, **m})
    parent.malformed_count += sub.malformed_count
    for k, v in sub.unknown.items():
        parent.unknown[k] += v


def _attach_codex_subagents(sessions: list[SessionAnalyzer]) -> list[SessionAnalyzer]:
    by_id = {s.session_id: s for s in sessions if s.session_id and not s.is_subagent}
    out: list[SessionAnalyzer] = []
    for s in sessions:
        parent = by_id.get(s.parent_session_id) if s.parent_session_id else None
        if s.format == "codex" and s.is_subagent and parent is not None:
            parent.merge_subagent(s.as_subagent(s.session_id or s.path, "file"))
            _fold_problems(parent, s)
        else:
            out.append(s)
    return out


def _link_continuations(sessions: list[SessionAnalyzer]) -> None:
    """A compaction that opens a new session file is judged by the end of the file it follows.

    Claude Code can continue after an auto-compaction in a new session file; its boundary names the
    last record before it (``logicalParentUuid``). Only compactions with no checkpoint before them
    in their own file are looked up.
    """
    by_uuid: dict[str, SessionAnalyzer] = {}
    for s in sessions:
        for u in s.tail_uuids:
            by_uuid[u] = s
    if not by_uuid:
        return
    for s in sessions:
        for c in s.compactions:
            parent = by_uuid.get(c.link) if c.link else None
            if parent is not None and parent is not s and c.checkpoint is None:
                s.continues(c, parent)


def _totals(docs: list[dict[str, Any]], subagent_files: int) -> dict[str, Any]:
    by_kind: Counter[str] = Counter()
    cats = {c: 0 for c in CATEGORIES}
    safe = total = 0
    for d in docs:
        for c in d["compactions"]:
            by_kind[c["kind"]] += 1
            total += 1
            safe += c["placement"] == "safe"
        for c, v in d["context_by_category"].items():
            cats[c] += v["tokens"]
    return {
        "sessions": len(docs),
        "subagent_files": subagent_files,
        "lines": sum(d["lines"] for d in docs),
        "records": sum(d["records"] for d in docs),
        "malformed": sum(d["malformed_count"] for d in docs),
        "unknown": sum(d["unknown_count"] for d in docs),
        "turns": sum(d["turns"] for d in docs),
        "peak_context": max((d["peak_context"] for d in docs), default=0),
        "compactions": {
            "total": total,
            "safe": safe,
            "mid_phase": total - safe,
            "by_kind": dict(sorted(by_kind.items())),
        },
        "context_by_category": cats,
        "subagents": {
            "count": sum(d["subagents"]["count"] for d in docs),
            "spend_tokens": sum(d["subagents"]["spend_tokens"] for d in docs),
            "returned_tokens": sum(d["subagents"]["returned_tokens"] for d in docs),
        },
    }
