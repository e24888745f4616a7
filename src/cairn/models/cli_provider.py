"""Agent CLIs run headless as reviewers: ``codex exec`` and ``claude -p``.

The prompt goes on stdin and the command is an argv list (no shell, so nothing in a prompt or a
path is ever interpreted). Each run has a time limit; at the limit the whole process group is
killed. Output formats:

* ``codex exec --json``: one JSON event a line (``thread.started``, ``turn.started``,
  ``item.completed`` with ``item.type == "agent_message"``, ``turn.completed`` with ``usage``, or
  ``turn.failed`` / ``error``); ``--output-last-message FILE`` also writes the final message.
* ``claude -p --output-format stream-json --verbose``: one JSON message a line (``system`` init,
  ``assistant`` / ``user`` messages, hook responses), ending with the ``result`` object
  (``{"type": "result", "subtype": "success", "is_error": false, "result": "...", "usage": {...},
  "modelUsage": {model: {...}}, "session_id": ...}``). The reviewer's answer is the text that ended
  its reply to cairn's question: a Stop hook of the user's can make the session go on, and then
  ``result`` is only the last thing said.

Every child runs with ``CAIRN_SPAWNED=review`` in its environment: cairn's own hooks see it and
stay silent in the reviewer's session (no brief, no recovery, no reminder, no journal entry), while
the user's own hooks run as usual.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cairn.models.base import Completion, Model, ModelError, ModelTimeout, with_retries

CAIRN_SERVER = "cairn"  # the name `cairn hooks install codex` registers the MCP server under
SPAWNED_ENV = "CAIRN_SPAWNED"  # cairn.integrations.hooks stays silent where this is set
UNKNOWN_MODEL = "unknown"  # the provider did not say which model answered
_TRANSIENT = ("429", "rate limit", "rate_limit", "overloaded", "503", "502", "temporarily")


class TransientCLIError(ModelError):
    """A CLI run failed in a way worth retrying (rate limit, overload, 5xx)."""


class CLIModel(Model):
    program = ""
    install_hint = ""

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name or str((settings or {}).get("model", "")), settings)
        command = self.settings.get("command", self.program)
        self.command: list[str] = (
            [str(c) for c in command] if isinstance(command, list) else [str(command)]
        )
        extra = self.settings.get("args", [])
        if not isinstance(extra, list):
            raise ModelError(f"[providers.{self.provider}] args must be a list of strings")
        self.extra_args = [str(a) for a in extra]
        self.max_retries = int(self.settings.get("max_retries", 2))
        self.retry_delay = float(self.settings.get("retry_delay", 2.0))

    # -- to implement ----------------------------------------------------------------------------
    @abstractmethod
    def argv(self, out_file: Path) -> list[str]:
        """The command line (no shell) that runs the agent CLI headless."""

    @abstractmethod
    def parse(self, stdout: str, out_file: Path) -> Completion:
        """The reply, from the CLI's output."""

    # -- running ---------------------------------------------------------------------------------
    def _executable(self) -> str:
        exe = self.command[0]
        found = shutil.which(exe)
        if found is None:
            raise ModelError(
                f"{exe!r} is not on PATH, so the {self.provider} reviewer cannot run; "
                f"{self.install_hint} or set [providers.{self.provider}] command"
            )
        return found

    def check(self) -> None:
        self._executable()

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        full = f"{system}\n\n{prompt}" if system else prompt

        def once() -> Completion:
            return self._run(full, timeout)

        return with_retries(
            once,
            retries=self.max_retries,
            retryable=lambda e: isinstance(e, TransientCLIError),
            base_delay=self.retry_delay,
        )

    def _run(self, prompt: str, timeout: float) -> Completion:
        exe = self._executable()
        with tempfile.TemporaryDirectory(prefix="cairn-review-") as tmp:
            out_file = Path(tmp) / "last_message.txt"
            argv = [exe, *self.command[1:], *self.argv(out_file)]
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, SPAWNED_ENV: "review"},
                start_new_session=True,  # its own process group, so a timeout kills every child
            )
            try:
                out, err = proc.communicate(prompt.encode("utf-8"), timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise ModelTimeout(
                    f"{self.spec} ({self.command[0]}) ran past its {timeout:g} s limit and was "
                    "stopped; raise [reviews] timeout or try later"
                ) from None
            stdout = out.decode("utf-8", "replace")
            stderr = err.decode("utf-8", "replace")
            if proc.returncode != 0:
                tail = (stderr.strip() or stdout.strip())[-1500:]
                cls = (
                    TransientCLIError if any(t in tail.lower() for t in _TRANSIENT) else ModelError
                )
                raise cls(
                    f"{self.spec} ({self.command[0]}) exited with status {proc.returncode}: {tail}"
                )
            return self.parse(stdout, out_file)


class CodexModel(CLIModel):
    provider = "codex"
    program = "codex"
    install_hint = "install it (`npm install -g @openai/codex`, then `codex login`)"

    def argv(self, out_file: Path) -> list[str]:
        args = [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "read-only",
            "--output-last-message",
            str(out_file),
        ]
        if self.name:
            args += ["--model", self.name]
        if cairn_mcp_configured(Path.cwd()):
            # The reviewer needs none of cairn's tools, and `cairn hooks install codex` marks the
            # server required: Codex would start it and wait for it (1-4 s) before answering.
            # Only when configured: for a server it does not know Codex refuses the whole config.
            args += ["-c", f"mcp_servers.{CAIRN_SERVER}.enabled=false"]
        return [*args, *self.extra_args, "-"]  # "-": read the prompt from stdin

    def parse(self, stdout: str, out_file: Path) -> Completion:
        message: str | None = None
        usage: dict[str, Any] = {}
        errors: list[str] = []
        events: list[dict[str, Any]] = []
        for line in stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(ev, dict):
                continue
            events.append(ev)
            kind = ev.get("type")
            item = ev.get("item")
            if kind == "item.completed" and isinstance(item, dict):
                if item.get("type") in ("agent_message", "assistant_message"):
                    message = str(item.get("text", ""))
            elif kind == "turn.completed" and isinstance(ev.get("usage"), dict):
                usage = ev["usage"]
            elif kind == "turn.failed":
                err = ev.get("error")
                errors.append(str(err.get("message") if isinstance(err, dict) else err))
            elif kind == "error":
                errors.append(str(ev.get("message", "error")))
        if out_file.exists():
            last = out_file.read_text(encoding="utf-8", errors="replace")
            if last.strip():
                message = last
        if message is None:
            why = "; ".join(errors) if errors else "no agent_message event and no last message"
            cls = TransientCLIError if any(t in why.lower() for t in _TRANSIENT) else ModelError
            raise cls(f"{self.spec} gave no answer: {why[-1500:]}")
        return Completion(
            text=message,
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")),
            model=codex_model(events) or self.name or "unknown",
            provider=self.provider,
            raw={"events": events[-20:]},
        )


def cairn_mcp_configured(cwd: Path) -> bool:
    """Whether the Codex run in ``cwd`` loads an ``[mcp_servers.cairn]`` entry: from the user's
    config, or from a project's ``.codex/config.toml`` that Codex reads (a trusted project)."""
    from cairn.models import codex_config

    def has(doc: dict[str, Any]) -> bool | None:
        return True if codex_config.mcp_server(doc, CAIRN_SERVER) is not None else None

    return bool(codex_config.setting(cwd, has))


def codex_model(events: list[dict[str, Any]]) -> str | None:
    """The model Codex says it used: from an event that names it, else from the session's rollout
    (``$CODEX_HOME/sessions/**/rollout-*-<thread id>.jsonl``, whose ``turn_context`` records name
    it; ``codex exec --json`` 0.171 prints no model), else None."""
    thread = None
    for ev in events:
        if isinstance(ev.get("model"), str) and ev["model"]:
            return str(ev["model"])
        if ev.get("type") == "thread.started" and isinstance(ev.get("thread_id"), str):
            thread = ev["thread_id"]
    if not thread or "/" in thread or "\x00" in thread:
        return None
    from cairn.models.codex_config import codex_home

    home = codex_home()
    for rollout in sorted((home / "sessions").glob(f"*/*/*/rollout-*-{thread}.jsonl")):
        try:
            with rollout.open(encoding="utf-8", errors="replace") as f:
                for _, line in zip(range(200), f, strict=False):
                    rec = json.loads(line) if line.startswith("{") else {}
                    payload = rec.get("payload") if isinstance(rec, dict) else None
                    if rec.get("type") == "turn_context" and isinstance(payload, dict):
                        model = payload.get("model")
                        if isinstance(model, str) and model:
                            return model
        except (OSError, ValueError):
            continue
    return None


class ClaudeModel(CLIModel):
    provider = "claude"
    program = "claude"
    install_hint = "install Claude Code (`npm install -g @anthropic-ai/claude-code`)"

    def argv(self, out_file: Path) -> list[str]:
        args = ["-p", "--output-format", "stream-json", "--verbose"]
        if self.name:
            args += ["--model", self.name]
        return [*args, *self.extra_args]

    def parse(self, stdout: str, out_file: Path) -> Completion:
        result, answer = _claude_stream(stdout)
        if result is None:
            raise ModelError(
                f"{self.spec}: `claude -p --output-format stream-json` printed no result object: "
                f"{stdout.strip()[-500:]!r}"
            )
        if result.get("is_error") or result.get("subtype", "success") != "success":
            text = str(result.get("result", ""))
            cls = TransientCLIError if any(t in text.lower() for t in _TRANSIENT) else ModelError
            raise cls(f"{self.spec} ended with {result.get('subtype', 'an error')}: {text[-1500:]}")
        usage = result.get("usage") if isinstance(result.get("usage"), dict) else {}
        assert isinstance(usage, dict)
        inp = _int(usage.get("input_tokens"))
        if inp is not None:
            inp += (_int(usage.get("cache_creation_input_tokens")) or 0) + (
                _int(usage.get("cache_read_input_tokens")) or 0
            )
        return Completion(
            text=answer if answer is not None else str(result.get("result", "")),
            input_tokens=inp,
            output_tokens=_int(usage.get("output_tokens")),
            model=_claude_model(result) or UNKNOWN_MODEL,
            provider=self.provider,
            raw=result,
        )


def _claude_stream(stdout: str) -> tuple[dict[str, Any] | None, str | None]:
    """The ``result`` object and the reviewer's answer to the first prompt.

    The answer is the newest assistant text before the first user message that is not a tool
    result (a hook's feedback, e.g. a Stop hook that made the session go on). Older versions and
    ``--output-format json`` print the result object alone: then the answer is None.
    """
    result: dict[str, Any] | None = None
    answer: str | None = None
    done = False
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        kind = obj.get("type")
        if kind == "result":
            result = obj
        elif kind == "assistant" and not done:
            text = _message_text(obj.get("message"))
            if text:
                answer = text
        elif kind == "user" and answer is not None and not _only_tool_results(obj.get("message")):
            done = True
    return result, answer


def _blocks(message: object) -> list[Any]:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


def _message_text(message: object) -> str:
    parts = [
        str(b.get("text", ""))
        for b in _blocks(message)
        if isinstance(b, dict) and b.get("type") == "text"
    ]
    return "\n".join(p for p in parts if p)


def _only_tool_results(message: object) -> bool:
    blocks = _blocks(message)
    return bool(blocks) and all(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks
    )


def _claude_model(result: dict[str, Any]) -> str | None:
    """The model Claude Code reports in ``modelUsage`` (the one with the most output)."""
    usage = result.get("modelUsage")
    if not isinstance(usage, dict) or not usage:
        return None

    def out(name: str) -> int:
        row = usage.get(name)
        return (_int(row.get("outputTokens")) or 0) if isinstance(row, dict) else 0

    return str(max(usage, key=out))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def create_codex(model: str, settings: Mapping[str, Any]) -> Model:
    return CodexModel(model, settings)


def create_claude(model: str, settings: Mapping[str, Any]) -> Model:
    return ClaudeModel(model, settings)
