"""The status reads each thing once for every task it shows (on a server each read is a round
trip, and the status is rendered after every command and in every flush): the same status as one
read per task gave, on SQLite and PostgreSQL; on PostgreSQL a number of statements that does not
grow with the active tasks; and a fresh ``cairn status`` on PostgreSQL that loads neither sqlite3
nor the connection pool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.task_life import archive_task
from cairn.domain.workspace import Workspace
from cairn.projection.status import _task, status_in
from cairn.store import Tx


def _per_task(ws: Workspace, tx: Tx) -> list[dict[str, Any]]:
    """The active tasks' details read as they were before, one task at a time."""
    active: list[Any] = []
    for phase in tx.tasks.active_phases(limit=10):
        row = tx.tasks.get(phase.task_id)
        if row is not None and all(t.id != row.id for t in active):
            active.append(row)
    if not active:
        active = tx.tasks.unfinished(limit=1)
    out = []
    for row in active:
        task = _task(row, tx.tasks.phases(row.id))
        cur = task.current_phase
        newest = tx.checkpoints.newest_of_task(row.id, exclude=("progress",), content=False)
        out.append(
            {
                "id": task.id,
                "title": task.title,
                "state": task.state,
                "phase": cur.name if cur else None,
                "phase_position": cur.position if cur else None,
                "phases": [
                    {"name": p.name, "state": p.state, "gated": p.gated} for p in task.phases
                ],
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
                "steps": [
                    {"text": s.text, "state": s.state, "phase": s.phase}
                    for s in tx.steps.of_task(row.id, limit=8)
                ],
                "steps_total": tx.steps.count(row.id),
                "updated_at": task.updated_at,
            }
        )
    return out


def _workspace(root: Path, store: str | None, active: int) -> Workspace:
    ws = Workspace.init(root, store=store)
    ws.projector.background = False
    with ws.batch():
        for i in range(active):
            t = f"task{i}"
            ws.create_task(t, f"Task {i}", ["analysis", "plan", "test"])
            ws.start_phase(t, "analysis")
            if i % 2 == 0:
                ws.write_checkpoint(t, "analysis", f"# analysis {i}\n", files=[f"src/{i}.py"])
                ws.write_checkpoint(t, "analysis", f"# analysis {i}, again\n")
            for n in range(3 + 4 * i):  # past the 8 shown for most
                ws.progress(t, f"step {n} of {t}", state="done" if n % 3 else "active")
            ws.set_next(t, f"go on with {t}")
        ws.create_task("idle", "Nothing active", ["only"])
        ws.create_task("gone", "Archived", ["only"])
        archive_task(ws, "gone")
    ws.flush()
    return ws


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_status_is_what_one_read_per_task_gave(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    ws = _workspace(tmp_path, url, 4)
    try:
        with ws.store.read() as tx:
            data = status_in(ws, tx)
            assert data["active"] == _per_task(ws, tx)
        shown = {t["id"]: t for t in data["active"]}
        assert sorted(shown) == ["task0", "task1", "task2", "task3"]
        assert shown["task3"]["steps_total"] == 15 and len(shown["task3"]["steps"]) == 8
        assert shown["task0"]["newest_checkpoint"]["version"] == 2
        assert shown["task1"]["newest_checkpoint"] is None
        assert [t["id"] for t in data["other_tasks"]] == ["idle"]
        assert data["counts"]["tasks"] == 5
    finally:
        ws.close()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from pg import statements_sent

    return statements_sent(monkeypatch)


def test_the_status_statements_do_not_grow_with_the_active_tasks(
    tmp_path: Path, pg_url: str, sent: list[str]
) -> None:
    from pg import drop_database, new_database

    counts = []
    for active in (1, 6):
        url = pg_url if active == 1 else new_database()
        (tmp_path / str(active)).mkdir()
        ws = _workspace(tmp_path / str(active), url, active)
        try:
            sent.clear()
            with ws.store.read() as tx:
                assert len(status_in(ws, tx)["active"]) == active
            counts.append(len(sent))
        finally:
            ws.close()
            if url != pg_url:
                drop_database(url)
    # count, checkpoints, active phases, their tasks, recent, phases, newest versions, steps,
    # failures, recoveries, the sections' tables, and the COMMIT (BEGIN goes with the first).
    assert counts[0] == counts[1] <= 12, (counts, sent)


_CHILD = r"""
import sys
from cairn.cli import main
code = main(["-C", sys.argv[1], "status", "--json"])
print(sorted(m for m in ("sqlite3", "psycopg_pool", "cairn.store.sqlite.connection")
             if m in sys.modules), file=sys.stderr)
"""


def test_a_fresh_status_on_postgresql_loads_no_sqlite_and_no_pool(
    tmp_path: Path, pg_url: str
) -> None:
    _workspace(tmp_path, pg_url, 2).close()
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["schema"] == "cairn.status/1"
    assert r.stderr.strip().splitlines()[-1] == "[]", r.stderr
