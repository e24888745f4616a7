"""A session start with a session id notes the brief it handed over in the recovery's own commit:
the hook runs at every session's start, and each durable commit is a sync."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cairn.domain.workspace import Workspace
from cairn.integrations.hooks import run_hook
from cairn.store.base import Transaction
from cairn.store.sqlite.connection import SQLiteStore


def _start(ws_path: Path, monkeypatch: pytest.MonkeyPatch, **payload: str) -> int:
    """Run the session-start hook in this process; the number of write transactions it opened."""
    writes = 0
    real = SQLiteStore.write

    @contextmanager
    def counted(self: SQLiteStore) -> Iterator[Transaction]:
        nonlocal writes
        writes += 1
        with real(self) as tx:
            yield tx

    monkeypatch.setattr(SQLiteStore, "write", counted)
    out = io.StringIO()
    stdin = io.BytesIO(json.dumps({"cwd": str(ws_path), **payload}).encode())
    assert run_hook("session-start", stdin=stdin, stdout=out, stderr=io.StringIO()) == 0
    monkeypatch.setattr(SQLiteStore, "write", real)
    assert "Recovery brief" in json.loads(out.getvalue())["hookSpecificOutput"]["additionalContext"]
    return writes


def test_the_brief_note_shares_the_recovery_commit(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan", "implement"])
        ws.start_phase("t", "plan")
    without_session = _start(ws_path, monkeypatch, source="startup")
    with_session = _start(ws_path, monkeypatch, source="startup", session_id="s1")
    assert with_session == without_session  # the note costs no commit of its own
    with Workspace.open(ws_path) as ws:
        recovery, context, note = ws.events(None, limit=3)
        with ws.store.read() as tx:
            current = tx.ledger.current_context()
    assert (recovery.type, context.type, note.type) == ("recovery", "budget.context", "hook.brief")
    assert note.task_id == recovery.task_id == context.task_id == "t"
    # The session's budget context starts there too, so its first turn is counted in it.
    assert current is not None and current.id == context.data["context"]
    assert (current.kind, current.note) == ("session", "s1")
    assert note.data == {
        "session": "s1",
        "source": "startup",
        "phase": "plan",
        "checkpoint": None,
        "known": context.id,  # the brief knew the journal up to its recovery and the context
    }


def test_a_budget_record_in_the_first_turn_is_counted_in_the_new_session(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.domain import budget

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan"])
        ws.start_phase("t", "plan")
        before = budget.record(ws, "specs", 500, source="the session before", render=False)
    assert _start(ws_path, monkeypatch, source="startup", session_id="s3") == 1
    with Workspace.open(ws_path) as ws:
        first_turn = budget.record(ws, "specs", 70, source="read SPEC.md", render=False)
        rep = budget.report(ws)
    assert first_turn.context_id != before.context_id
    assert rep.context_id == first_turn.context_id
    assert [(c.category, c.used) for c in rep.categories if c.used] == [("specs", 70)]


def test_with_no_task_the_context_and_the_note_share_one_commit(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _start(ws_path, monkeypatch, source="startup", session_id="s4") == 1
    with Workspace.open(ws_path) as ws:
        context, note = ws.events(None, limit=2)
        with ws.store.read() as tx:
            current = tx.ledger.current_context()
    assert (context.type, note.type) == ("budget.context", "hook.brief")
    assert current is not None and (current.id, current.note) == (context.data["context"], "s4")


def test_after_a_clear_the_note_follows_the_new_budget_context(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan"])
        ws.start_phase("t", "plan")
    _start(ws_path, monkeypatch, source="clear", session_id="s2")
    with Workspace.open(ws_path) as ws:
        events = ws.events(None, limit=50)
    assert "recovery" in [e.type for e in events]
    note = events[-1]
    assert note.type == "hook.brief" and note.data["source"] == "clear"
    assert note.data["known"] == events[-2].id  # it knew all before it, the budget's part too
