"""`cairn doctor`'s client checks: ask the installed agent programs themselves whether cairn's
hooks run there and its MCP server connects, and say exactly what to run when not.

- Codex CLI: its own ``codex app-server`` (JSON-RPC over stdio): ``hooks/list`` gives every hook
  it found for the project with its ``trustStatus`` (Codex runs only ``trusted`` ones and skips
  the others silently in ``codex exec``), ``mcpServerStatus/list`` connects each MCP server and
  lists its tools.
- Claude Code: ``claude mcp list`` connects each MCP server it would use in the project.

A client that is not installed gives no row; each call has a short time limit, and a client that
does not answer in time is reported as such (warn), never waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from cairn.core.doctor import Check

AREA = "clients"
CALL_TIMEOUT = 20.0
# The hook events cairn installs, as Codex's hooks/list names them.
CODEX_EVENTS = {
    "sessionStart": "session-start",
    "preCompact": "pre-compact",
    "postCompact": "post-compact",
    "stop": "stop",
    "subagentStop": "subagent-stop",
    "postToolUse": "post-tool-use",
}


class ClientError(Exception):
    """The client program failed or did not answer in time."""


def app_server_calls(
    calls: list[tuple[str, dict[str, Any]]],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = CALL_TIMEOUT,
    program: str = "codex",
) -> list[dict[str, Any]]:
    """The ``result`` of each call to a fresh ``codex app-server``, in order."""
    exe = shutil.which(program, path=(env or os.environ).get("PATH"))
    if exe is None:
        raise ClientError(f"{program} is not on PATH")
    proc = subprocess.Popen(
        [exe, "app-server"],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout

    def send(message: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def answer(request_id: int) -> dict[str, Any]:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ClientError(f"`{program} app-server` did not answer within {timeout:g} s")
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise ClientError(f"`{program} app-server` exited with status {proc.poll()}")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("id") == request_id:
                if "error" in message:
                    raise ClientError(f"`{program} app-server`: {message['error']}")
                result = message.get("result")
                return result if isinstance(result, dict) else {}

    try:
        info = {"name": "cairn-doctor", "version": "1"}
        send({"id": 0, "method": "initialize", "params": {"clientInfo": info}})
        answer(0)
        send({"method": "initialized"})
        results = []
        for n, (method, params) in enumerate(calls, 1):
            send({"id": n, "method": method, "params": params})
            results.append(answer(n))
        return results
    except (OSError, BrokenPipeError) as exc:
        raise ClientError(f"`{program} app-server` failed: {exc}") from exc
    finally:
        _stop(proc, reader)


def _stop(proc: subprocess.Popen[str], reader: threading.Thread) -> None:
    """End the app-server and what it started: ``codex`` is a Node launcher that runs the native
    binary as its child, so killing the launcher alone would leave the binary running."""
    import signal

    with contextlib.suppress(OSError):
        assert proc.stdin is not None
        proc.stdin.close()  # the app-server exits at the end of its input
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the launcher and its children
    proc.wait()
    # The reader sees end of file once the group is gone; closing the pipe only after it has
    # stopped avoids both a read on a closed file and an unclosed-file ResourceWarning.
    reader.join(timeout=2)
    if not reader.is_alive() and proc.stdout is not None:
        proc.stdout.close()


# -- Codex ---------------------------------------------------------------------------------------
def codex_checks(root: Path, env: dict[str, str] | None = None) -> list[Check]:
    from cairn.integrations.install import is_cairn_handler

    if shutil.which("codex", path=(env or os.environ).get("PATH")) is None:
        return []
    fix = "cairn hooks install codex"
    if not _codex_configured(root, env):  # cheap: no need to start Codex to know that
        detail = "cairn is not installed into Codex (no hooks, MCP server or plugin of cairn's)"
        return [Check(AREA, "codex", "warn", detail, fix)]
    try:
        hooks_answer, mcp_answer = app_server_calls(
            [("hooks/list", {"cwds": [str(root)]}), ("mcpServerStatus/list", {})],
            cwd=root,
            env=env,
        )
    except ClientError as exc:
        return [Check(AREA, "codex", "warn", f"could not ask Codex: {exc}", "codex doctor")]
    entries = hooks_answer.get("data") or [{}]
    hooks = [
        h for h in entries[0].get("hooks") or [] if is_cairn_handler({"command": h.get("command")})
    ]
    out: list[Check] = []
    if not hooks and _has_cairn_hooks(root / ".codex" / "hooks.json"):
        detail = (
            "cairn's hooks are in this project's .codex/hooks.json, but Codex does not read it: "
            "the project is not trusted"
        )
        trust = f'add [projects."{root}"] trust_level = "trusted" to $CODEX_HOME/config.toml'
        out.append(Check(AREA, "codex hooks", "fail", detail, trust))
    elif not hooks:
        out.append(Check(AREA, "codex hooks", "fail", "Codex lists none of cairn's hooks", fix))
    else:
        bad = [
            f"{CODEX_EVENTS.get(h.get('eventName', ''), h.get('eventName'))}: "
            f"{h.get('trustStatus') if h.get('enabled', True) else 'disabled'}"
            for h in hooks
            if h.get("trustStatus") != "trusted" or not h.get("enabled", True)
        ]
        missing = sorted(set(CODEX_EVENTS) - {str(h.get("eventName")) for h in hooks})
        bad += [f"{CODEX_EVENTS[m]}: not installed" for m in missing]
        if bad:
            detail = "Codex will skip these hooks: " + "; ".join(bad)
            out.append(Check(AREA, "codex hooks", "fail", detail, fix))
        else:
            where = sorted({str(h.get("sourcePath")) for h in hooks})
            detail = f"{len(hooks)} hooks trusted and enabled ({', '.join(where)})"
            out.append(Check(AREA, "codex hooks", "ok", detail))
    servers = {s.get("name"): s for s in mcp_answer.get("data") or [] if isinstance(s, dict)}
    server = servers.get("cairn")
    if server is None and _project_server(root / ".codex" / "config.toml"):
        detail = (
            "cairn's MCP server is registered in this project's .codex/config.toml; Codex's "
            "app-server checks only user-level servers, so its connection is not verified here"
        )
        out.append(Check(AREA, "codex mcp", "warn", detail, "codex mcp list"))
    elif server is None:  # hooks without the server (--no-mcp) is a choice, not a fault
        out.append(Check(AREA, "codex mcp", "warn", "Codex has no MCP server named cairn", fix))
    elif not server.get("tools"):
        detail = "Codex lists the cairn MCP server but it answered with no tools"
        out.append(Check(AREA, "codex mcp", "fail", detail, "cairn mcp  # run it to see why"))
    else:
        detail = f"cairn's MCP server connects and offers {len(server['tools'])} tools"
        out.append(Check(AREA, "codex mcp", "ok", detail))
    return out


def _codex_configured(root: Path, env: dict[str, str] | None) -> bool:
    """Whether any Codex file holds something of cairn's (read, not asked: fast)."""
    environ = env or os.environ
    home = Path(environ.get("CODEX_HOME") or Path(environ.get("HOME", "~")).expanduser() / ".codex")
    if _has_cairn_hooks(home / "hooks.json") or _has_cairn_hooks(root / ".codex" / "hooks.json"):
        return True
    if _project_server(home / "config.toml") or _project_server(root / ".codex" / "config.toml"):
        return True
    try:  # a plugin's hooks are trusted under its id
        return '[hooks.state."cairn@' in (home / "config.toml").read_text(encoding="utf-8")
    except OSError:
        return False


def _project_server(path: Path) -> bool:
    import tomllib

    try:
        servers = tomllib.loads(path.read_text(encoding="utf-8")).get("mcp_servers", {})
    except (OSError, ValueError):
        return False
    return isinstance(servers, dict) and "cairn" in servers


def _has_cairn_hooks(path: Path) -> bool:
    from cairn.integrations.install import is_cairn_handler

    try:
        hooks = json.loads(path.read_text(encoding="utf-8")).get("hooks", {})
    except (OSError, ValueError, AttributeError):
        return False
    return any(
        is_cairn_handler(h)
        for groups in (hooks.values() if isinstance(hooks, dict) else [])
        for g in (groups if isinstance(groups, list) else [])
        for h in (g.get("hooks", []) if isinstance(g, dict) else [])
    )


# -- Claude Code ---------------------------------------------------------------------------------
def claude_checks(root: Path, env: dict[str, str] | None = None) -> list[Check]:
    from cairn.integrations.claude_plugin import plugin_check
    from cairn.integrations.install import is_cairn_handler

    exe = shutil.which("claude", path=(env or os.environ).get("PATH"))
    if exe is None:
        return []
    plugin = plugin_check(root, is_cairn_handler, env)
    return [*([plugin] if plugin else []), *_claude_mcp(exe, root, env, plugin is not None)]


def _claude_mcp(exe: str, root: Path, env: dict[str, str] | None, plugin: bool) -> list[Check]:
    if not plugin and not _claude_configured(root, env):
        detail = "cairn's MCP server is not registered for Claude Code here"
        return [Check(AREA, "claude mcp", "warn", detail, "cairn hooks install claude")]
    try:
        proc = subprocess.run(
            [exe, "mcp", "list"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        detail = f"`claude mcp list` did not answer within {CALL_TIMEOUT:g} s"
        return [Check(AREA, "claude mcp", "warn", detail, "claude mcp list")]
    except OSError as exc:
        return [Check(AREA, "claude mcp", "warn", f"could not run claude: {exc}")]
    # Its own registration is "cairn: …", the plugin's "plugin:cairn:cairn: …".
    names = ("cairn:", "plugin:cairn:cairn:")
    line = next((ln for ln in proc.stdout.splitlines() if ln.strip().startswith(names)), None)
    fix = "cairn hooks install claude"
    if line is None:
        return [Check(AREA, "claude mcp", "fail", "Claude Code has no MCP server named cairn", fix)]
    low = line.lower()
    if "connected" in low and "failed" not in low:
        return [Check(AREA, "claude mcp", "ok", "cairn's MCP server connects in Claude Code")]
    if "approv" in low:  # a project's .mcp.json server waits for the user's yes
        detail = f"Claude Code has not been allowed to start it yet: {line.strip()}"
        fix = "claude  # once in this project: approve the cairn server from .mcp.json"
        return [Check(AREA, "claude mcp", "fail", detail, fix)]
    detail = f"Claude Code reports: {line.strip()}"
    return [Check(AREA, "claude mcp", "fail", detail, "claude mcp get cairn")]


def _claude_configured(root: Path, env: dict[str, str] | None) -> bool:
    """Whether .mcp.json or ~/.claude.json registers a server named cairn (for this project)."""
    home = Path((env or os.environ).get("HOME", "~")).expanduser()
    for path in (root / ".mcp.json", home / ".claude.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        projects = data.get("projects")
        here = projects.get(str(root)) if isinstance(projects, dict) else None
        for holder in (data, here):
            servers = holder.get("mcpServers") if isinstance(holder, dict) else None
            if isinstance(servers, dict) and "cairn" in servers:
                return True
    return False


def client_checks(root: Path) -> list[Check]:
    """Every installed client's view of cairn in the project at ``root``."""
    return [*codex_checks(root), *claude_checks(root)]
