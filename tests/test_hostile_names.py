"""Hostile names and paths through the CLI and the MCP tools (issue 11, "Must show"): traversal,
absolute paths, NUL, newlines, look-alike Unicode, 10 KB, case clashes, and links planted in the
folders cairn writes. Whatever the name, nothing outside the workspace is written or read, and a
refusal is one line."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.cli import run

SECRET = "OUTSIDE-SECRET-7f3a"

# An absolute path outside the workspace, in this run's temporary folder: nothing may create it.
_ABSOLUTE_OUTSIDE = str(Path(tempfile.gettempdir()) / f"cairn-hostile-{os.getpid()}")

CRAFTED = [
    "../x",
    "../../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    _ABSOLUTE_OUTSIDE,
    "link/secret.txt",
    "link/new.md",
    "logs/workers/new.log",
    "reviews/responses/x.md",
    "a\x00b",
    "a\nb",
    "line\r\nbreak",
    "tab\there",
    "ｆinding",  # fullwidth
    "fіnding",  # Cyrillic і
    "finding\u200b",  # zero-width space
    "T",  # a case clash with the task t
    "PLAN",
    "x" * 10_000,
    "." * 300,
    "..",
    ".",
    "",
    " ",
    "-rf",
    "--json",
    "con",
    "a" * 64,
    "a" * 65,
]

NAMES = st.one_of(
    st.sampled_from(CRAFTED),
    st.text(min_size=1, max_size=40),
    st.text(alphabet="./\\\n\x00aT_-", min_size=1, max_size=12),
)

CLI = [
    ("task new", lambda n: ["task", "new", n, "--phases", "a"]),
    ("checkpoint kind", lambda n: ["checkpoint", "write", "t", n]),
    ("checkpoint reload", lambda n: ["checkpoint", "write", "t", "plan", "--reload", n]),
    ("phase start", lambda n: ["phase", "start", "t", n]),
    ("progress phase", lambda n: ["progress", "t", "did it", "--phase", n]),
    ("next task", lambda n: ["next", n, "text"]),
    ("task show", lambda n: ["task", "show", n]),
    ("log task", lambda n: ["log", "--task", n]),
    (
        "review topic",
        lambda n: [
            "review",
            "request",
            "--task",
            "t",
            "--topic",
            n,
            "--question",
            "q",
            "--reviewer",
            "human",
        ],
    ),
    (
        "review context",
        lambda n: [
            "review",
            "request",
            "--task",
            "t",
            "--topic",
            "x",
            "--question",
            "q",
            "--context",
            n,
            "--reviewer",
            "human",
        ],
    ),
    ("review show", lambda n: ["review", "show", n]),
    ("agents-md", lambda n: ["hooks", "agents-md", "--file", n]),
]


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (not following links): file bytes, or a link's target."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(folder).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            elif p.is_file():
                out[rel] = p.read_bytes()
    return out


def _plant(base: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A workspace with task t, and an ``outside`` folder that links in it lead to."""
    root, outside = base / "proj", base / "outside"
    root.mkdir()
    (outside / "workers").mkdir(parents=True)
    (outside / "responses").mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    assert run(capsys, None, "init", str(root)).code == 0
    assert run(capsys, root, "task", "new", "t", "--phases", "a,plan").code == 0
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "secret-link.md").symlink_to(outside / "secret.txt")
    (root / "logs" / "workers").symlink_to(outside / "workers", target_is_directory=True)
    (root / "reviews" / "requests").mkdir(parents=True, exist_ok=True)
    (root / "reviews" / "responses").symlink_to(outside / "responses", target_is_directory=True)
    return root, outside


def _check_refusal(code: int, err: str, what: str) -> None:
    assert code in (0, 1, 2), (what, code, err)
    assert "internal error" not in err and "Traceback" not in err, (what, err)
    if code:
        lines = err.rstrip("\n").split("\n")
        # One line, after the usage block that argparse prints above a usage error.
        *usage, message = lines
        assert message.startswith("cairn"), (what, err[:500])
        assert not usage or (usage[0].startswith("usage: ") and "usage error" in message), (
            what,
            err[:500],
        )
        assert len(message) < 1000, (what, message[:200])


def _no_secret_inside(root: Path, out: str, what: str) -> None:
    assert SECRET not in out, what
    for rel, data in _tree(root).items():
        if isinstance(data, bytes) and not rel.startswith(".cairn/"):
            assert SECRET.encode() not in data, (what, rel)


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES)
@pytest.mark.parametrize(("what", "argv"), CLI, ids=[c[0] for c in CLI])
def test_hostile_names_through_the_cli(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    what: str,
    argv: Any,
    name: str,
) -> None:
    base = tmp_path_factory.mktemp("hostile")
    root, outside = _plant(base, capsys)
    before_outside = _tree(outside)
    before_base = sorted(p.name for p in base.iterdir())
    r = run(capsys, root, *argv(name), stdin="content\n")
    _check_refusal(r.code, r.err, what)
    assert _tree(outside) == before_outside, what
    assert sorted(p.name for p in base.iterdir()) == before_base, what
    assert not Path(_ABSOLUTE_OUTSIDE).exists()
    _no_secret_inside(root, r.out, what)


MCP = [
    ("task_new", lambda n: {"task": n, "phases": ["a"]}),
    ("checkpoint_write kind", lambda n: {"kind": n, "content": "x", "task": "t"}),
    (
        "checkpoint_write reload",
        lambda n: {
            "kind": "plan",
            "content": "x",
            "task": "t",
            "reload": [n],
        },
    ),
    ("progress", lambda n: {"text": "did it", "task": "t", "phase": n}),
    (
        "review_request topic",
        lambda n: {
            "topic": n,
            "question": "q",
            "task": "t",
            "reviewer": "human",
        },
    ),
    (
        "review_request context",
        lambda n: {
            "topic": "x",
            "question": "q",
            "task": "t",
            "reviewer": "human",
            "context_files": [n],
        },
    ),
    ("task_show", lambda n: {"task": n}),
]


@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=NAMES)
@pytest.mark.parametrize(("what", "arguments"), MCP, ids=[m[0] for m in MCP])
def test_hostile_names_through_the_mcp_tools(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    what: str,
    arguments: Any,
    name: str,
) -> None:
    pytest.importorskip("mcp")
    from cairn.mcp_server import build_server

    base = tmp_path_factory.mktemp("hostile-mcp")
    root, outside = _plant(base, capsys)
    before_outside = _tree(outside)
    server = build_server(str(root))
    tool = what.split()[0]

    async def call() -> Any:
        return await server.call_tool(tool, arguments(name))

    try:
        result = anyio.run(call)
        text = "\n".join(getattr(c, "text", "") for c in getattr(result, "content", []))
    except Exception as exc:  # a tool error: what the client would read
        text = str(exc)
        assert "Traceback" not in text and "internal error" not in text, (what, text[:300])
        assert "\n" not in text.strip(), (what, text[:500])
    assert _tree(outside) == before_outside, what
    _no_secret_inside(root, text, what)
