"""The dashboard in a real browser: Debian's headless Chromium (/usr/bin/chromium) driven by
Playwright's Python package (no browser download), against a real ``cairn ui`` process.

A screenshot of each view is saved to ``$CAIRN_UI_SHOTS`` when set (``docs/ui/`` is made that
way, see docs/ui.md), else to this run's temporary folder.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.ui import XSS, cli, generate_tasks, make_showcase, running_ui
from tests.services import need

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(
        "headless Chromium with Playwright",
        CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None,
        "apt-get install chromium (.ci/setup.d/40-chromium.sh) and pip install playwright",
    )
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 860})
    p = ctx.new_page()
    p.dialogs = []  # type: ignore[attr-defined]
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    try:
        yield p
    finally:
        ctx.close()


def _main_text(page: Any) -> str:
    return str(page.inner_text("main"))


def _appears(page: Any, js: str, arg: Any) -> float:
    """Seconds until ``js(arg)`` holds in the page, failing after one second."""
    t0 = time.monotonic()
    page.wait_for_function(js, arg=arg, timeout=1000, polling=50)
    return time.monotonic() - t0


def test_a_cli_change_appears_without_a_reload(ws_path: Path, page: Any) -> None:
    cli(ws_path, "task", "new", "live", "--phases", "build,test")
    with running_ui(ws_path) as url:
        page.goto(f"{url}?view=task&id=live")
        assert "live" in page.title()
        page.evaluate("window.__same_page = 1")
        assert page.locator("#live").inner_text() == "live"

        cli(ws_path, "phase", "start", "live", "build")
        took = _appears(
            page,
            "p => [...document.querySelectorAll('table.phases tr')].some(tr =>"
            " tr.querySelector(`[data-phase='${p}']`) && tr.innerText.includes('active'))",
            "build",
        )
        cli(ws_path, "checkpoint", "write", "live", "notes", stdin="# Notes\nfirst\n")
        took_cp = _appears(
            page,
            "k => [...document.querySelectorAll('a.cp')].some(a => a.textContent === k)",
            "notes",
        )
        assert page.evaluate("window.__same_page") == 1  # no reload happened
        assert took < 1.0 and took_cp < 1.0

        cli(ws_path, "progress", "live", "Compiled it", "--state", "done")
        _appears(page, "t => document.querySelector('ol.steps').innerText.includes(t)", "Compiled")


def test_a_hostile_checkpoint_is_inert(ws_path: Path, page: Any) -> None:
    cli(ws_path, "task", "new", "x", "--title", XSS, "--phases", "a")
    cli(ws_path, "phase", "start", "x", "a")
    cli(ws_path, "checkpoint", "write", "x", "a", stdin=f"# Hostile\n{XSS}\n")
    cli(ws_path, "progress", "x", XSS, "--state", "active")
    cli(ws_path, "next", "x", XSS)
    with running_ui(ws_path) as url:
        for view in ("", "?view=task&id=x", "?view=checkpoint&task=x&kind=a"):
            page.goto(url + view)
            page.wait_for_timeout(300)  # an onerror would have fired by now
            assert page.dialogs == []
            assert page.locator("main img").count() == 0
            assert page.locator("main script").count() == 0
            assert "<script>alert(1)</script>" in _main_text(page)
        # A change arrives through the live swap too, and stays text.
        cli(ws_path, "checkpoint", "write", "x", "a", stdin=f"v2 {XSS}\n")
        _appears(page, "() => document.querySelector('main').innerText.includes('v2 <script>')", 0)
        page.wait_for_timeout(300)
        assert page.dialogs == [] and page.locator("main img").count() == 0


def test_ten_thousand_tasks(tmp_path: Path, page: Any) -> None:
    root = tmp_path / "big"
    root.mkdir()
    cli(root, "init")
    generate_tasks(root, 10_000)
    with running_ui(root) as url:
        page.goto(url)
        assert page.locator("table.tasks tbody tr").count() == 50
        assert "10,000" in page.inner_text("p.counts")
        assert "page 1 of 200" in page.inner_text("nav.pager")
        page.click("a[rel=next]")
        page.wait_for_url("**page=2**")
        assert page.locator("table.tasks tbody tr").count() == 50
        page.goto(url + "?page=200")
        assert page.locator("table.tasks tbody tr").count() == 50
        page.click("table.tasks tbody tr:first-child a")
        assert page.locator("table.phases tbody tr").count() == 4


VIEWS = {
    "tasks": "",
    "task": "?view=task&id=finding4",
    "task-gated": "?view=task&id=ranking",
    "checkpoint-diff": "?view=checkpoint&task=ranking&kind=plan&a=1&b=2",
    "compactions": "?view=compactions",
    "budget": "?view=budget",
    "reviews": "?view=reviews",
    "runs": "?view=runs",
}


MUST_SHOW = {
    "tasks": ("waits for a verdict", "ranking", "finding4"),
    "task": ("#1 crashed", "Streams", "data/scores.jsonl", "Workers"),
    "task-gated": ("closed: review pending", "hand edit", "Fitting the per-topic normaliser"),
    "checkpoint-diff": ("+Normalise (per topic) scores by length.", "<script>alert(1)</script>"),
    "compactions": ("safe point", "mid-phase", "Recovery brief", "reloaded"),
    "budget": ("over", "warn", "subagent summaries"),
    "reviews": ("No verdict yet.", "Add a per-topic breakdown"),
    "runs": ("expand_eval", "read-logs", "scripted:demo"),
}


def test_a_screenshot_of_each_view(tmp_path: Path, page: Any) -> None:
    shots = Path(os.environ.get("CAIRN_UI_SHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "show"
    make_showcase(root)
    with running_ui(root) as url:
        for name, view in VIEWS.items():
            page.goto(url + view)
            assert page.locator("main h1").count() == 1, name
            assert "Not found" not in page.inner_text("main h1"), name
            for needle in MUST_SHOW.get(name, ()):
                assert needle in _main_text(page), (name, needle)
            # The compactions view's table is below its charts: the whole page for that one.
            page.screenshot(path=str(shots / f"{name}.png"), full_page=name == "compactions")
            assert (shots / f"{name}.png").stat().st_size > 5000
        assert page.dialogs == []
    print(f"screenshots: {shots}")
