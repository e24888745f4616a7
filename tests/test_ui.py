"""The dashboard's server without a browser: every view renders from a real workspace, content is
escaped, the page is read-only and guarded (host, token, CSP), secrets are masked, lists are
paginated, and ``cairn ui`` refuses an outside address without a token."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.helpers.ui import generate_tasks, running_ui
from tests.services import need

from cairn.cli import main
from cairn.domain.workspace import Workspace

XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
LOCAL = "http://127.0.0.1:8471"


def _client(root: Path, *, token: str | None = None, base: str = LOCAL) -> TestClient:
    from cairn.ui.app import create_app

    ws = Workspace.open(root, listeners=())
    return TestClient(create_app(ws, token=token), base_url=base)


@pytest.fixture
def busy(ws_path: Path) -> Iterator[Path]:
    """A workspace with a gated task, two versions of a checkpoint (one hostile), a hand edit,
    steps, a review, a budget entry and a compaction."""
    with Workspace.open(ws_path) as ws:
        ws.create_task("finding4", title="Best-of-N <b>bold</b>", phases=["plan", "implement"])
        ws.start_phase("finding4", "plan")
        ws.write_checkpoint("finding4", "plan", "# Plan\n\nfirst line\n")
        ws.write_checkpoint("finding4", "plan", f"# Plan\n\n{XSS}\nsecond line\n")
        ws.progress("finding4", "Read the data", state="done")
        ws.progress("finding4", f"step {XSS}", state="active")
        ws.set_next("finding4", "Write the ranking")
    art = ws_path / "artifacts" / "finding4_plan.md"
    art.write_text("# Plan\n\nedited by hand\n", encoding="utf-8")
    assert main(["-C", str(ws_path), "refresh"]) == 0
    assert main(["-C", str(ws_path), "budget", "record", "specs", "1200", "--source", XSS]) == 0
    assert (
        main(
            [
                "-C",
                str(ws_path),
                "review",
                "request",
                "--task",
                "finding4",
                "--topic",
                "finding4_plan",
                "--question",
                f"Sound? {XSS}",
                "--reviewer",
                "human",
            ]
        )
        == 0
    )
    yield ws_path


VIEWS = [
    "/",
    "/?view=task&id=finding4",
    "/?view=checkpoint&task=finding4&kind=plan",
    "/?view=checkpoint&task=finding4&kind=plan&a=1&b=2",
    "/?view=compactions",
    "/?view=budget",
    "/?view=reviews",
    "/?view=runs",
]


@pytest.mark.parametrize("url", VIEWS)
def test_every_view_renders_and_escapes(busy: Path, url: str) -> None:
    r = _client(busy).get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "<script>window" not in r.text and "<img src=x" not in r.text
    assert '<script type="module" src="/static/ui.js"></script>' in r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-cairn-token"]


def test_task_view_shows_phases_checkpoints_steps_and_hand_edits(busy: Path) -> None:
    page = _client(busy).get("/?view=task&id=FINDING4").text  # any case finds the task
    assert 'data-phase="plan"' in page and 'data-phase="implement"' in page
    assert "Write the ranking" in page
    assert "Best-of-N &lt;b&gt;bold&lt;/b&gt;" in page
    assert "✎ hand edit" in page  # the newest plan came from the file
    assert "step &lt;script&gt;" in page
    assert 'class="chart timeline"' in page


def test_checkpoint_history_content_and_diff(busy: Path) -> None:
    c = _client(busy)
    page = c.get("/?view=checkpoint&task=finding4&kind=plan&v=2").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert page.count('<span class="hand">') == 1  # v3 only
    diff = c.get("/?view=checkpoint&task=finding4&kind=plan&a=1&b=3").text
    assert '<span class="del">-first line</span>' in diff
    assert '<span class="add">+edited by hand</span>' in diff


def test_reviews_pending_is_highlighted(busy: Path) -> None:
    page = _client(busy).get("/?view=reviews").text
    assert '<section class="review pending">' in page
    assert "Sound? &lt;script&gt;" in page


def test_change_token_moves_with_a_cli_write_and_the_fragment_is_bare(busy: Path) -> None:
    c = _client(busy)
    before = c.get("/api/token").json()["token"]
    assert c.get("/api/token").json()["token"] == before
    assert main(["-C", str(busy), "next", "finding4", "Something else"]) == 0
    after = c.get("/api/token").json()["token"]
    assert after != before
    frag = c.get("/fragment?view=task&id=finding4")
    assert frag.headers["x-cairn-token"] == after
    assert "<html" not in frag.text and "Something else" in frag.text
    assert main(["-C", str(busy), "budget", "record", "specs", "5", "--source", "x"]) == 0
    assert c.get("/api/token").json()["token"] != after  # ledger entries are not journaled


def test_read_only_and_loopback_host_only(busy: Path) -> None:
    c = _client(busy)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert c.request(method, "/").status_code == 405
    assert c.get("/static/ui.js").headers["content-type"].startswith("text/javascript")
    assert c.get("/static/../app.py").status_code == 404
    assert c.get("/static/app.py").status_code == 404
    # A DNS-rebinding page reaches 127.0.0.1 under its own name: refused.
    assert _client(busy, base="http://evil.example:8471").get("/").status_code == 421
    assert _client(busy, base="http://localhost:8471").get("/").status_code == 200


def test_token_is_required_and_kept_in_a_cookie(busy: Path) -> None:
    secret = "s3cret-token-for-the-ui"
    c = _client(busy, token=secret, base="http://192.0.2.7:8471")
    assert c.get("/").status_code == 401
    assert c.get("/?token=wrong-token-value").status_code == 401
    r = c.get(f"/?view=budget&token={secret}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?view=budget"
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    assert c.get("/?view=budget").status_code == 200  # the cookie now
    r = c.get(f"http://192.0.2.7:8471//evil.example/?token={secret}", follow_redirects=False)
    assert r.headers["location"] == "/evil.example/?"  # stays on this server
    fresh = _client(busy, token=secret, base="http://192.0.2.7:8471")
    ok = fresh.get("/api/token", headers={"authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    assert secret not in ok.text


def test_secrets_from_the_environment_are_masked(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-test-0123456789abcdefXYZ"
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", key)
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan"])
        ws.write_checkpoint("t", "plan", f"the key is {key}\n")
    page = _client(ws_path).get("/?view=checkpoint&task=t&kind=plan").text
    assert key not in page and key[:12] not in page
    assert "the key is ***" in page


def test_tasks_are_paginated(ws_path: Path) -> None:
    generate_tasks(ws_path, 120)
    c = _client(ws_path)
    first = c.get("/").text
    assert "page 1 of 3" in first
    assert first.count('<tr><td><a href="/?view=task') == 50
    last = c.get("/?page=3").text
    assert last.count('<tr><td><a href="/?view=task') == 20
    assert "page 3 of 3" in last
    assert c.get("/?page=99").status_code == 200  # past the end: the last page


def test_unknown_things_are_404_with_a_way_on(busy: Path) -> None:
    c = _client(busy)
    for url in ("/?view=task&id=nope", "/?view=checkpoint&task=finding4&kind=zzz", "/?view=x"):
        r = c.get(url)
        assert r.status_code == 404 and "pick" in r.text


def test_cli_refuses_an_outside_address_without_a_token(ws_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(ws_path), "ui", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "without a token" in r.stderr and "--token" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_light_commands_do_not_import_the_web_stack(ws_path: Path) -> None:
    code = (
        "import sys, json; from cairn.cli import main; main(['-C', sys.argv[1], 'status']); "
        "main(['-C', sys.argv[1], 'task', 'list']); "
        "print(json.dumps([m for m in ('starlette', 'uvicorn', 'cairn.ui.app') "
        "if m in sys.modules]))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(ws_path)], capture_output=True, text=True, timeout=60
    )
    assert json.loads(r.stdout.strip().splitlines()[-1]) == []


def test_audit_html_draws_with_the_shared_charts(tmp_path: Path) -> None:
    from cairn.audit import html as audit_html
    from cairn.audit import render_html
    from cairn.audit.charts import context_chart

    assert audit_html.context_chart is context_chart
    session = {
        "timeline": [{"turn": 1, "context": 1000}, {"turn": 5, "context": 9000}],
        "compactions": [
            {
                "turn": 3,
                "kind": "compact",
                "line": 9,
                "trigger": "<auto>",
                "pre_tokens": 8000,
                "placement": "mid_phase",
            }
        ],
        "turns": 5,
        "context_window": 10000,
    }
    svg = audit_html.chart_svg(session)
    assert svg.startswith("<svg") and 'class="compaction" data-placement="mid"' in svg
    assert "&lt;auto&gt;" in svg and "<auto>" not in svg
    assert callable(render_html)


def test_a_port_in_use_is_one_line(ws_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "cairn", "-C", str(ws_path), "ui", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 2 and "pick another --port" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_token_may_come_from_the_environment(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "from-the-environment-123"
    monkeypatch.setenv("CAIRN_UI_TOKEN", secret)
    with running_ui(ws_path) as url:
        assert url.endswith(f"?token={secret}")
        api = url.split("?")[0] + "api/token"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(api, timeout=10)
        assert refused.value.code == 401
        req = urllib.request.Request(api, headers={"Authorization": f"Bearer {secret}"})
        with urllib.request.urlopen(req, timeout=10) as ok:
            assert json.loads(ok.read())["token"]


@pytest.fixture(params=["memory", "postgresql"])
def other_store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A store of another backend than the workspace's SQLite default."""
    from cairn.store import open_store
    from cairn.store.memory import MemoryStore

    if request.param == "memory":
        yield MemoryStore()
        return
    import pg

    need("PostgreSQL", pg.available(), pg.HINT)
    url = pg.new_database()
    store = open_store(url, create=True)
    try:
        yield store
    finally:
        store.close()
        pg.drop_database(url)


def test_every_view_works_on_every_backend(ws_path: Path, other_store: Any) -> None:
    """The dashboard reads only through the store contract, so every backend serves it, the
    change token included."""
    from cairn.core.config import load_config
    from cairn.ui.app import create_app

    config = load_config(ws_path / ".cairn" / "config.toml")
    ws = Workspace(ws_path, other_store, config, listeners=())
    ws.create_task("m", phases=["a", "b"])
    ws.start_phase("m", "a")
    ws.write_checkpoint("m", "a", "x\n")
    c = TestClient(create_app(ws), base_url=LOCAL)
    before = c.get("/api/token").json()["token"]
    ws.write_checkpoint("m", "a", f"y {XSS}\n")
    assert c.get("/api/token").json()["token"] != before
    for url in [*VIEWS[:2], "/?view=checkpoint&task=m&kind=a&a=1&b=2", *VIEWS[4:]]:
        r = c.get(url.replace("finding4", "m"))
        assert r.status_code == 200, url
        assert "<script>window" not in r.text
    assert "y &lt;script&gt;" in c.get("/?view=checkpoint&task=m&kind=a").text


def test_a_gate_shows_who_opened_it(ws_path: Path) -> None:
    root = str(ws_path)
    assert (
        main(["-C", root, "task", "new", "g", "--phases", "plan,build,ship", "--gate", "build"])
        == 0
    )
    assert main(["-C", root, "task", "new", "h", "--phases", "plan,build", "--gate", "build"]) == 0
    for t in ("g", "h"):
        assert main(["-C", root, "phase", "start", t, "plan"]) == 0
        assert (
            main(["-C", root, "checkpoint", "write", t, "plan", "--file", str(_plan(ws_path))]) == 0
        )
        assert main(["-C", root, "phase", "done", t, "plan"]) == 0
    assert main(["-C", root, "phase", "start", "g", "build", "--override", "demo <now>"]) == 0
    assert main(["-C", root, "review", "request", "--task", "h", "--topic", "h_plan",
                 "--question", "Sound?", "--reviewer", "human"]) == 0  # fmt: skip
    review = json.loads(_out(["-C", root, "review", "list", "--json"]))["reviews"][0]["id"]
    assert (
        main(["-C", root, "review", "answer", review, "--approve", "--recommendation", "ok"]) == 0
    )
    c = _client(ws_path)
    g = c.get("/?view=task&id=g").text
    assert "overridden" in g and "demo &lt;now&gt;" in g
    h = c.get("/?view=task&id=h").text
    assert "open: plan v1 approved by human" in h


def _plan(root: Path) -> Path:
    from cairn.core.templates import template

    f = root / "plan-input.md"
    f.write_text(template("plan"), encoding="utf-8")
    return f


def _out(argv: list[str]) -> str:
    r = subprocess.run([sys.executable, "-m", "cairn", *argv], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_compactions_from_the_hooks_with_their_chart_and_brief(busy: Path) -> None:
    import shutil

    from tests.helpers.ui import TRANSCRIPT, cli

    session = busy / "session.jsonl"
    shutil.copyfile(TRANSCRIPT, session)
    hook = {"session_id": "s1", "transcript_path": str(session), "trigger": "auto"}
    cli(busy, "hook", "pre-compact", stdin=json.dumps(hook))
    c = _client(busy)
    before = c.get("/api/token").json()["token"]
    page = c.get("/?view=compactions").text
    assert '<span class="warn">not yet</span>' in page  # not recovered yet
    cli(busy, "hook", "session-start", stdin=json.dumps({**hook, "source": "compact"}))
    assert c.get("/api/token").json()["token"] != before
    page = c.get("/?view=compactions").text
    assert "<code>artifacts/finding4_plan.md</code>" in page  # what the brief loaded
    assert "reloaded CURRENT_WORK_STATUS.md" in page
    assert 'aria-label="context size over turns"' in page  # the audit's chart of the transcript
    assert "# Recovery brief: finding4" in page
    assert "Recovery: Loaded checkpoint from artifacts/finding4_plan.md" in page  # the log


def test_an_archived_task_leaves_the_list_and_says_so_on_its_page(busy: Path) -> None:
    assert main(["-C", str(busy), "task", "new", "old", "--phases", "a"]) == 0
    c = _client(busy)
    assert "view=task&amp;id=old" in c.get("/").text
    assert main(["-C", str(busy), "task", "archive", "old"]) == 0
    assert "view=task&amp;id=old" not in c.get("/").text
    page = c.get("/?view=task&id=old").text
    assert "This task is archived" in page
