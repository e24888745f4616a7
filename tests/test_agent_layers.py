"""The agent runtime and the model stack import one way: no circle among their files (imports made
inside functions count too), models/ never reaches up into agent/, and neither holds bench code."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGES = ("cairn.agent", "cairn.models")


def _module(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (SRC / pkg.replace(".", "/")).glob("*.py")]
    known = {_module(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        mod = _module(path)
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out.update(n for n in names if n in known and n != mod)
        graph[mod] = out
    return graph


def test_no_circle_among_the_agent_and_model_files() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
                raise AssertionError("import circle: " + " -> ".join(loop))
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])


def test_models_never_import_the_agent_runtime() -> None:
    graph = _graph()
    up = {m: sorted(t for t in ts if t.startswith("cairn.agent")) for m, ts in graph.items()}
    assert {m: ts for m, ts in up.items() if m.startswith("cairn.models") and ts} == {}
    for p in (SRC / "cairn").rglob("*.py"):
        assert "bench" not in p.name, f"{p} is benchmark code inside the package"
