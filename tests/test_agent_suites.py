"""The scripted model's suites: the package ships only the demo suites; the benchmark's come from
bench/agent_suites/, registered explicitly (by the benchmark, or named in config.toml)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cairn.cli import main
from cairn.core.errors import UsageError
from cairn.models.scripted_suites import SUITES, get_suite, load_suites

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_holds_only_the_demo_suites() -> None:
    code = (
        "import importlib.util, json, sys\n"
        "from cairn.models import scripted_suites as s\n"
        "gone = [m for m in ('cairn.agent.bench_suites', 'cairn.agent.bench_kit', "
        "'cairn.agent.bench_tasks_code') if importlib.util.find_spec(m) is not None]\n"
        "print(json.dumps([sorted(s.SUITES), gone, 'pydantic_ai' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    suites, bench_modules, heavy = json.loads(out.stdout)
    assert suites == ["demo", "demo-slow", "demo-subagents"]
    assert bench_modules == []
    assert heavy is False  # naming suites needs no pydantic-ai


def test_a_suite_module_named_in_the_config_is_registered(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A suite module of the workspace's own (a relative path), built from the demo suite.
    (ws_path / "my_suites.py").write_text(
        "from dataclasses import replace\n"
        "from cairn.models.scripted_suites import get_suite\n\n"
        "SUITES = {'mine': lambda: replace(get_suite('demo'), name='mine')}\n"
    )
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + '\n[providers.scripted]\nsuites = ["my_suites.py"]\n')
    code = main(["-C", str(ws_path), "agent", "run", "m", "--model", "scripted:mine", "--setup"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "implement: done" in out
    assert get_suite("mine").verify(ws_path)[0]  # type: ignore[misc]
    SUITES.pop("mine", None)


def test_the_benchmark_suites_run_from_the_cli_when_named(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ws_path / ".cairn" / "config.toml"
    suites = (ROOT / "bench" / "agent_suites").as_posix()
    cfg.write_text(cfg.read_text() + f'\n[providers.scripted]\nsuites = ["{suites}"]\n')
    code = main(["-C", str(ws_path), "agent", "run", "rv", "--model", "scripted:review", "--setup"])
    out = capsys.readouterr().out
    assert code == 0, out
    ok, why = get_suite("review").verify(ws_path)  # type: ignore[misc]
    assert ok, why
    for name in load_suites([suites]):
        SUITES.pop(name, None)


def test_suite_paths_that_are_not_suite_modules_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such module"):
        load_suites(["nowhere"], tmp_path)
    (tmp_path / "empty.py").write_text("X = 1\n")
    with pytest.raises(UsageError, match="no SUITES mapping"):
        load_suites(["empty.py"], tmp_path)
    with pytest.raises(UsageError, match="no scripted suite 'dataquality'"):
        get_suite("dataquality")
