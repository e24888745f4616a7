"""Commands that do not talk to a model or serve MCP never import the heavy optional SDKs: they
run after every hook and agent step, and the SDKs are optional extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

HEAVY = (
    "openai",
    "anthropic",
    "mcp",
    "pydantic_ai",
    "pydantic",
    "rich",
    "httpx",
    "psycopg",  # the PostgreSQL store's: only a postgresql:// store loads it
    "psycopg_pool",
    "ray",
)

COMMANDS = [
    ["status"],
    ["recover"],
    ["task", "list"],
    ["review", "list"],
    ["review", "request", "--task", "t", "--topic", "t_plan", "--question", "Sound?"],
    ["budget"],
    ["budget", "record", "specs", "100", "--source", "spec"],
    ["advise", "--read-lines", "800", "--write-lines", "150", "--rounds", "3"],
    ["agent", "runs"],
    ["hooks", "compactions"],
    ["hook", "stop"],
]

_CHILD = r"""
import io, json, sys
from cairn.cli import main
heavy, root, commands = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
out = []
for argv in commands:
    sys.stdin = io.StringIO("{}")
    code = main(["-C", root, *argv])
    out.append([argv, code, sorted(m for m in heavy if m in sys.modules)])
print(json.dumps(out), file=sys.stderr)
"""


def test_light_commands_import_no_sdk(ws_path: Path) -> None:
    from cairn.domain.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan", "implement"], gates=["implement"])
        ws.write_checkpoint("t", "plan", "# Plan\n")
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(HEAVY), str(ws_path), json.dumps(COMMANDS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = json.loads(r.stderr.strip().splitlines()[-1])
    assert [code for _, code, _ in results] == [0] * len(COMMANDS), results
    loaded = {" ".join(argv): mods for argv, _, mods in results if mods}
    assert not loaded, f"heavy modules imported: {loaded}"


def test_the_hook_entry_point_imports_no_sdk(ws_path: Path) -> None:
    # Said by an exit handler: the entry point ends the process (core/procs.exit_now).
    code = (
        "import atexit, sys, runpy; sys.argv = ['cairn.hooks', 'session-start']; "
        "sys.stdin = __import__('io').StringIO('{}')\n"
        "atexit.register(lambda: print(sorted(m for m in "
        f"{HEAVY!r} if m in sys.modules), file=sys.stderr))\n"
        "runpy.run_module('cairn.hooks', run_name='__main__')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ws_path, timeout=60
    )
    assert r.stderr.strip().splitlines()[-1] == "[]", r.stderr


def test_the_mcp_server_answers_before_loading_cairn() -> None:
    """`cairn mcp` builds the SDK's server and answers `initialize` before its tools and cairn's
    modules are loaded (they load in a thread meanwhile): its start-up path imports none of them."""
    code = (
        "import sys\n"
        "import cairn.mcp_start as m\n"
        "from cairn.cli import build_parser\n"
        "build_parser('mcp')\n"
        "m.new_server()\n"
        "print(sorted(n for n in sys.modules if n.startswith(('cairn.domain', 'cairn.store', "
        "'cairn.projection', 'cairn.mcp_server', 'cairn.mcp_tools'))))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]", r.stdout


# The start path of the commands run after every compaction (and of the session-start hook) does
# without ``typing`` (~3 ms of a fresh process): annotations are strings and the Protocols are
# only read by the type checker. A module on that path that needs typing at run time shows here.
_NO_TYPING = r"""
import atexit, io, runpy, sys
sys.argv, sys.stdin = sys.argv[1:], io.StringIO("{}")
atexit.register(lambda: print("typing" in sys.modules, file=sys.stderr))  # the entry point exits
runpy.run_module(sys.argv[0], run_name="__main__")
"""


def test_the_start_path_does_not_import_typing(ws_path: Path) -> None:
    from cairn.domain.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan", "implement"])
        ws.start_phase("t", "plan")
        ws.write_checkpoint("t", "plan", "# Plan\n")
    for argv in (["cairn", "status"], ["cairn", "recover"], ["cairn.hooks", "session-start"]):
        r = subprocess.run(
            [sys.executable, "-c", _NO_TYPING, *argv],
            capture_output=True,
            text=True,
            cwd=ws_path,
            timeout=60,
        )
        assert r.stderr.strip().splitlines()[-1] == "False", (argv, r.stdout, r.stderr)


# Also off that path, each for what it cost a fresh process: threading (~1 ms; the projector makes
# its thread's condition when it first starts one, and a command or hook never does), struct (a
# first build of the cut vocabulary only), argparse (cli/quick.py reads the plain command lines),
# tomllib (a plain config), the answers' shapes (JSON only), the task-life parsers and the phase
# moves' rules (a reading command moves no phase), and the tokenizer library (~4.5 ms: a brief is
# counted in Python, cairn.core.quick_count, once a first use has saved the cut's ranks), and
# urllib.parse with ipaddress (~2.4 ms, which pathlib imports for Path.as_uri alone:
# cairn.core.stdlib_start).
_OFF_THE_START_PATH = (
    "quicktok",
    "zlib",  # the hook's one-run check hashes its input in Python (~0.8 ms to load zlib and libz)
    "urllib.parse",
    "ipaddress",
    "threading",
    "struct",
    "argparse",
    "tomllib",
    "typing",
    "cairn.views",
    "cairn.cli.task_life_args",
    "cairn.core.rules",
)
_LOADED = r"""
import atexit, io, json, runpy, sys
off, payload = json.loads(sys.argv[1]), sys.argv[2].encode()
sys.argv, sys.stdin = sys.argv[3:], io.TextIOWrapper(io.BytesIO(payload))
atexit.register(lambda: print(sorted(m for m in off if m in sys.modules), file=sys.stderr))
runpy.run_module(sys.argv[0], run_name="__main__")
"""


def test_the_start_path_leaves_these_unloaded(ws_path: Path) -> None:
    from cairn.core import tokens
    from cairn.domain.workspace import Workspace

    tokens._bound_encoder(tokens.QUICK_RANKS)  # as a first use does: the cut and its ranks
    assert tokens._ranks_file(tokens.QUICK_RANKS).is_file()

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan", "implement"])
        ws.start_phase("t", "plan")
        ws.write_checkpoint("t", "plan", "# Plan\n")
    payload = json.dumps(
        {
            "session_id": "s",
            "cwd": str(ws_path),
            "hook_event_name": "SessionStart",
            "source": "startup",
        }
    )
    for argv in (["cairn", "status"], ["cairn", "recover"], ["cairn.hooks", "session-start"]):
        r = subprocess.run(
            [sys.executable, "-c", _LOADED, json.dumps(_OFF_THE_START_PATH), payload, *argv],
            capture_output=True,
            text=True,
            cwd=ws_path,
            timeout=60,
        )
        assert "Recovery brief" in r.stdout or argv[1] == "status", (argv, r.stdout, r.stderr)
        assert r.stderr.strip().splitlines()[-1] == "[]", (argv, r.stdout, r.stderr)


_STAND_IN = r"""
import sys
from cairn.core.stdlib_start import import_pathlib
import_pathlib()
import pathlib
print("urllib.parse" in sys.modules, "ipaddress" in sys.modules)
print(pathlib.Path(sys.argv[1]).as_uri())
from urllib.parse import urlsplit
import urllib.parse
print(urlsplit("http://h/p?q").query, urllib.parse.quote("a b"), hasattr(urllib.parse, "_cairn_stand_in"))
"""


def test_pathlib_without_urllib_still_makes_uris_and_leaves_the_real_module(
    tmp_path: Path,
) -> None:
    odd = tmp_path / "a b#\u00e9"
    r = subprocess.run(
        [sys.executable, "-c", _STAND_IN, str(odd)], capture_output=True, text=True, timeout=60
    )
    assert r.stdout.splitlines() == [
        "False False",
        "file://" + quote(str(tmp_path)) + "/a%20b%23%C3%A9",
        "q a%20b False",
    ], r.stderr


_READS = r"""
import sys
from cairn.store.sqlite import migrations
from cairn.store.factory import open_store
store = open_store(sys.argv[1])
with store.read() as tx:
    tx.meta.get("x")
store.close()
print(sorted(m.name for m in migrations.MIGRATIONS[1:] if m._sql is not None))
"""


def test_a_store_at_the_current_version_opens_without_reading_its_migrations(
    tmp_path: Path,
) -> None:
    from cairn.store.factory import open_store

    open_store(tmp_path / "cairn.db", create=True).close()
    r = subprocess.run(
        [sys.executable, "-c", _READS, str(tmp_path / "cairn.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.stdout.strip() == "[]", r.stderr


# The importlib package (with its set-up, ~0.9 ms) as the console script runs a command: modules
# are looked up by name through core/stdlib_start.import_module. (`python -m` loads it for runpy.)
_SCRIPT = r"""
import atexit, sys
sys.argv = ["cairn", *sys.argv[1:]]
atexit.register(lambda: print("importlib" in sys.modules, file=sys.stderr))
from cairn.cli import main
sys.exit(main())
"""


def test_status_and_recover_leave_the_importlib_package_unloaded(ws_path: Path) -> None:
    from cairn.domain.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["plan", "implement"])
        ws.start_phase("t", "plan")
    for argv in (["status"], ["recover"]):
        r = subprocess.run(
            [sys.executable, "-c", _SCRIPT, *argv],
            capture_output=True,
            text=True,
            cwd=ws_path,
            timeout=60,
        )
        assert r.returncode == 0 and r.stderr.strip().splitlines()[-1] == "False", (argv, r)
