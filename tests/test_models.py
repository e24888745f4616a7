"""The models layer: the registry, verdict parsing, the agent CLIs (fake `codex` / `claude` on PATH),
the structural checklist, and the install hint for a missing SDK."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cairn.core.templates import template
from cairn.models import (
    Completion,
    MissingExtra,
    Model,
    ModelError,
    ModelTimeout,
    parse_spec,
    providers,
    register_provider,
    resolve,
    unregister_provider,
)
from cairn.models.local import checklist_verdict
from cairn.models.verdict import (
    ContextDoc,
    InvalidVerdict,
    build_prompt,
    parse_prompt,
    parse_verdict,
)

FAKEBIN = Path(__file__).parent / "fakebin"


@pytest.fixture
def fakebin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("PATH", f"{FAKEBIN}{os.pathsep}{os.environ['PATH']}")
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.delenv("FAKE_MODE", raising=False)
    monkeypatch.delenv("FAKE_REPLY", raising=False)
    return log


def _calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


# -- registry ----------------------------------------------------------------------------------
class Echo(Model):
    provider = "echo"

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        return Completion(prompt[::-1], 1, 1, self.name, self.provider)


def test_a_registered_provider_resolves_like_a_built_in_one() -> None:
    seen: list[tuple[str, Mapping[str, Any]]] = []

    def factory(model: str, settings: Mapping[str, Any]) -> Model:
        seen.append((model, settings))
        return Echo(model, settings)

    register_provider("echo", factory)
    try:
        m = resolve("echo:m1", {"providers": {"echo": {"temperature": 0}}})
        assert m.spec == "echo:m1" and m.complete("abc").text == "cba"
        assert seen == [("m1", {"temperature": 0})]
        assert "echo" in providers()
    finally:
        unregister_provider("echo")
    assert {"openai", "anthropic", "codex", "claude", "human", "file", "checklist"} <= set(
        providers()
    )


def test_spec_parsing_and_unknown_providers() -> None:
    assert parse_spec("openai:gpt-4o") == ("openai", "gpt-4o")
    assert parse_spec("codex") == ("codex", "")
    assert parse_spec("ollama:llama3:8b") == ("ollama", "llama3:8b")
    with pytest.raises(Exception, match="no model provider 'nope'; known providers: anthropic"):
        resolve("nope:x")
    with pytest.raises(Exception, match="provider:model"):
        parse_spec("")


def test_an_api_key_in_the_config_is_refused() -> None:
    with pytest.raises(Exception, match="environment only"):
        resolve("openai:gpt-4o", {"providers": {"openai": {"api_key": "sk-x"}}})


def test_a_missing_sdk_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *a: Any, **k: Any) -> Any:
        return None if name in ("openai", "anthropic") else real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with pytest.raises(MissingExtra, match=r"pip install 'cairn-agent\[openai\]'"):
        resolve("openai:gpt-4o").check()
    with pytest.raises(MissingExtra, match=r"pip install 'cairn-agent\[anthropic\]'"):
        resolve("anthropic:claude-sonnet-4-6").check()
    monkeypatch.setitem(sys.modules, "openai", None)  # `import openai` now fails
    with pytest.raises(MissingExtra, match=r"cairn-agent\[openai\]"):
        resolve("openai:gpt-4o").complete("q")


# -- verdicts ----------------------------------------------------------------------------------
def test_verdicts_are_read_from_json_prose_and_fences() -> None:
    v = parse_verdict('{"approved": true, "recommendation": "go", "concerns": []}')
    assert v.approved and v.recommendation == "go"
    fenced = 'Here it is:\n```json\n{"approved": false, "recommendation": "cut k", "concerns": ["cost"]}\n```'
    assert parse_verdict(fenced).concerns == ("cost",)
    prose = 'I think {"approved": false, "recommendation": "x", "concerns": ["a", "b"]} overall.'
    assert parse_verdict(prose).approved is False


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("", "empty"),
        ("Looks good to me! Approved.", "no JSON object"),
        ('{"approved": "yes", "recommendation": "", "concerns": []}', "true or false"),
        ('{"approved": true, "concerns": []}', "recommendation"),
        ('{"approved": true, "recommendation": "ok"}', "concerns"),
        ('{"approved": false, "recommendation": " ", "concerns": []}', "rejection needs"),
        ('{"approved": 1, "recommendation": "ok", "concerns": []}', "true or false"),
    ],
)
def test_anything_else_is_no_verdict(reply: str, problem: str) -> None:
    with pytest.raises(InvalidVerdict, match=problem):
        parse_verdict(reply)


def test_prompt_round_trips_concerns_and_context() -> None:
    docs = [ContextDoc("artifacts/a_plan.md", "line 1\nline 2", 6, 6, False)]
    prompt = build_prompt("t", "Sound?", ["GPU cost", "complexity"], docs)
    assert parse_prompt(prompt) == (
        ["GPU cost", "complexity"],
        [("artifacts/a_plan.md", "line 1\nline 2")],
    )


# -- checklist ---------------------------------------------------------------------------------
FILLED = """# Finding #4 Implementation Plan

**Task**: Best-of-N sampling for preference pairs
**Files to modify**:
- scripts/generate_preference_pairs_logprob.py
**Approach**: add k; sample k completions; rank by critic score. GPU cost: k <= 4.
**Tests needed**: tests/test_best_of_n.py
**Estimated time**: 3 hours
"""


def _checklist(plan: str, concerns: list[str]) -> dict[str, Any]:
    doc = ContextDoc("artifacts/finding4_plan.md", plan, 1, 1, False)
    return checklist_verdict(build_prompt("finding4_approach", "Sound?", concerns, [doc]))


def test_checklist_rejects_the_bare_template_and_says_it_is_structural() -> None:
    v = _checklist(template("plan", "Finding #4"), ["GPU cost"])
    assert v["approved"] is False
    assert v["recommendation"].startswith("Structural check only")
    assert "not a judgement" in v["recommendation"]
    assert "the plan's 'Files to modify' is a template placeholder" in v["concerns"]
    assert any("'GPU cost': the plan does not mention it" in c for c in v["concerns"])


def test_checklist_approves_a_filled_plan_and_flags_stated_concerns() -> None:
    v = _checklist(FILLED, ["GPU cost", "complexity"])
    assert v["approved"] is True
    assert any("'GPU cost': the plan mentions it" in c for c in v["concerns"])
    assert any("'complexity': the plan does not mention it" in c for c in v["concerns"])
    missing = _checklist(FILLED.replace("**Tests needed**: tests/test_best_of_n.py\n", ""), [])
    assert missing["approved"] is False
    assert "the plan's 'Tests needed' is missing" in missing["concerns"]


def test_checklist_is_the_default_and_answers_through_the_model_interface() -> None:
    m = resolve("checklist")
    doc = ContextDoc("artifacts/x_plan.md", FILLED, 1, 1, False)
    c = m.complete(build_prompt("x", "Sound?", [], [doc]))
    assert parse_verdict(c.text).approved is True
    assert c.tokens_exact is False and (c.input_tokens or 0) > 0


# -- agent CLIs --------------------------------------------------------------------------------
def test_codex_exec_gets_the_prompt_on_stdin_and_its_json_events_are_read(fakebin: Path) -> None:
    prompt = "Review this; $(rm -rf /) `x` 'quotes' \"and\" ; | & > are plain text"
    c = resolve("codex:gpt-5-codex").complete(prompt, system="SYS", timeout=30)
    assert json.loads(c.text)["approved"] is True
    assert (c.input_tokens, c.output_tokens) == (1234, 56)
    assert c.model == "gpt-5-codex" and c.provider == "codex"
    (call,) = _calls(fakebin)
    argv = call["argv"][1:]
    assert argv[:2] == ["exec", "--json"] and argv[-1] == "-"
    assert argv[argv.index("--model") + 1] == "gpt-5-codex"
    assert "--output-last-message" in argv and "read-only" in argv
    assert call["stdin"] == f"SYS\n\n{prompt}"


def test_codex_without_a_last_message_file_uses_the_agent_message_event(
    fakebin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_REPLY", "plain answer")
    cfg = {"providers": {"codex": {"args": ["--color", "never"]}}}
    m = resolve("codex", cfg)
    assert m.complete("q", timeout=30).text == "plain answer"
    argv = _calls(fakebin)[0]["argv"]
    assert argv[-3:] == ["--color", "never", "-"]


def test_claude_print_mode_result_is_read(fakebin: Path) -> None:
    c = resolve("claude:claude-opus-4-7").complete("q", timeout=30)
    assert json.loads(c.text)["approved"] is True
    assert (c.input_tokens, c.output_tokens) == (1000, 42)
    assert c.model == "claude-opus-4-7"
    argv = _calls(fakebin)[0]["argv"][1:]
    assert argv[:4] == ["-p", "--output-format", "stream-json", "--verbose"]


def test_cli_errors_and_failed_turns_are_model_errors(
    fakebin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MODE", "fail")
    with pytest.raises(ModelError, match="exited with status 1"):
        resolve("codex", {"providers": {"codex": {"max_retries": 0}}}).complete("q", timeout=30)
    monkeypatch.setenv("FAKE_MODE", "error")
    with pytest.raises(ModelError, match="error_during_execution"):
        resolve("claude", {"providers": {"claude": {"max_retries": 0}}}).complete("q", timeout=30)


@pytest.mark.parametrize("program", ["codex", "claude"])
def test_cli_rate_limits_are_retried_with_backoff(
    program: str, fakebin: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FAKE_MODE", "ratelimit-once")
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "state"))
    cfg = {"providers": {program: {"retry_delay": 0.01, "max_retries": 2}}}
    c = resolve(program, cfg).complete("q", timeout=30)
    assert json.loads(c.text)["approved"] is True
    assert len(_calls(fakebin)) == 2


def test_a_cli_past_its_time_limit_is_killed(
    fakebin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MODE", "sleep")
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match=r"ran past its 0\.5 s limit"):
        resolve("codex").complete("q", timeout=0.5)
    assert time.monotonic() - started < 10


def test_a_missing_cli_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ModelError, match=r"'codex' is not on PATH.*npm install -g @openai/codex"):
        resolve("codex").check()
    with pytest.raises(ModelError, match="'claude' is not on PATH"):
        resolve("claude").check()


def test_people_answer_later() -> None:
    for spec in ("human", "file"):
        m = resolve(spec)
        assert m.deferred
        with pytest.raises(ModelError, match="cairn review answer"):
            m.complete("q")
