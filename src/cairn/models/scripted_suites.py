"""Named suites for the scripted model: the registry, and the built-in demo suites.

``scripted:demo`` (and ``demo-slow``, ``demo-subagents``) are what ``cairn agent run --model
scripted:demo`` and the tests run. Other suites are registered explicitly: by code
(:func:`register`, :func:`register_all`), or from a suite module named in ``.cairn/config.toml``::

    [providers.scripted]
    suites = ["bench/agent_suites"]    # a .py file or a package folder, relative to the workspace

A suite module holds ``SUITES``, a mapping of names to functions that make a :class:`Suite`; the
strategy benchmark's (``bench/agent_suites/``) is one, and is never shipped in the package.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core.errors import UsageError
from cairn.models.scripted import ArgsFn, Call, Script, Suite, Unit

if TYPE_CHECKING:
    from cairn.core.config import Config

SuiteFactory = Callable[[], Suite]

SUITES: dict[str, SuiteFactory] = {}


def register(name: str) -> Callable[[SuiteFactory], SuiteFactory]:
    """Decorator: make ``scripted:<name>`` play the suite the function makes."""

    def deco(factory: SuiteFactory) -> SuiteFactory:
        SUITES[name] = factory
        return factory

    return deco


def register_all(suites: Mapping[str, SuiteFactory]) -> None:
    for name, factory in suites.items():
        register(name)(factory)


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise UsageError(
            f"no scripted suite {name!r}; known: {', '.join(sorted(SUITES))} (use --model "
            "scripted:SUITE; more suites come from [providers.scripted] suites = [PATH] in "
            ".cairn/config.toml)"
        )
    return SUITES[name]()


def load_suites(paths: Iterable[str | Path], root: Path | None = None) -> list[str]:
    """Register the ``SUITES`` of each suite module (a ``.py`` file or a package folder); relative
    paths are read from ``root``. Returns the names registered."""
    names: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_absolute() and root is not None:
            path = root / path
        path = path.resolve()
        init = path / "__init__.py" if path.is_dir() else path
        if not init.is_file():
            raise UsageError(f"scripted suites {raw}: no such module ({init} is missing)")
        # A name of its own per path, so that two suite folders never shadow each other.
        mod_name = "_cairn_suites_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
        module = sys.modules.get(mod_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(
                mod_name,
                init,
                submodule_search_locations=[str(path)] if path.is_dir() else None,
            )
            if spec is None or spec.loader is None:
                raise UsageError(f"scripted suites {raw}: cannot import {init}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module  # its relative imports look it up there
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[mod_name]
                raise
        found = getattr(module, "SUITES", None)
        if not isinstance(found, Mapping):
            raise UsageError(f"scripted suites {raw}: the module has no SUITES mapping")
        register_all(found)
        names.extend(found)
    return names


DEMO_FILES = 3


def _numbers(i: int) -> list[int]:
    return [(i * 7 + k * 13) % 97 for k in range(40)]


def _demo_setup(root: Path) -> None:
    (root / "data").mkdir(exist_ok=True)
    for i in range(DEMO_FILES):
        (root / "data" / f"in_{i}.txt").write_text("\n".join(map(str, _numbers(i))) + "\n")


def _demo_verify(root: Path) -> tuple[bool, str]:
    bad = []
    for i in range(DEMO_FILES):
        p = root / "out" / f"sum_{i}.txt"
        if not p.exists() or p.read_text().strip() != str(sum(_numbers(i))):
            bad.append(p.name)
    return (not bad, "all sums right" if not bad else f"wrong or missing: {', '.join(bad)}")


def _sum_of(text: str) -> int:
    return sum(int(x) for x in text.split() if x.strip().lstrip("-").isdigit())


def _writer(out: str) -> ArgsFn:
    def make(prev: list[str]) -> dict[str, object]:
        return {"path": out, "content": f"{_sum_of(prev[0])}\n"}

    return make


def _demo(delay: float = 0.0, name: str = "demo") -> Suite:
    reads = tuple(Call("read_file", {"path": f"data/in_{i}.txt"}) for i in range(DEMO_FILES))

    def plan(prev: list[str]) -> dict[str, object]:
        sums = [_sum_of(t) for t in prev]
        body = "\n".join(f"- data/in_{i}.txt: sum {s}" for i, s in enumerate(sums))
        return {
            "kind": "analysis",
            "content": f"# Demo analysis\n\n{body}\n\n**Next action**: write out/sum_N.txt\n",
            "files": [f"data/in_{i}.txt" for i in range(DEMO_FILES)],
        }

    analysis = Script(
        (Unit("analyse", (*reads, Call("checkpoint", plan, say="Writing the analysis."))),),
        final="Analysis written.",
        delay=delay,
    )
    units = []
    for i in range(DEMO_FILES):
        out = f"out/sum_{i}.txt"
        units.append(
            Unit(
                f"sum{i}",
                (
                    Call("read_file", {"path": f"data/in_{i}.txt"}),
                    Call("write_file", _writer(out)),
                    Call("progress", {"text": f"wrote {out}"}),
                ),
                (out,),
            )
        )
    implement = Script(tuple(units), final="All sums written.", delay=delay)
    return Suite(
        name,
        {"analysis": analysis, "implement": implement},
        phases=("analysis", "implement"),
        instructions="Sum the numbers of each data/in_N.txt into out/sum_N.txt.",
        setup=_demo_setup,
        verify=_demo_verify,
    )


@register("demo")
def demo() -> Suite:
    return _demo()


@register("demo-slow")
def demo_slow() -> Suite:
    """The demo at 0.25 s a response: long enough to kill the runtime mid-phase."""
    return _demo(0.25, "demo-slow")


@register("demo-subagents")
def demo_subagents() -> Suite:
    """Two slow subagents (0.3 s a response) that each sum half of the demo's files."""
    halves = {"left": [0, 1], "right": [2]}
    subs: dict[str, Script] = {}
    tasks = []
    for name, idx in halves.items():
        units = tuple(
            Unit(
                f"sum{i}",
                (
                    Call("read_file", {"path": f"data/in_{i}.txt"}),
                    Call("write_file", _writer(f"out/sum_{i}.txt")),
                ),
                (f"out/sum_{i}.txt",),
            )
            for i in idx
        )
        subs[f"sub:{name}"] = Script(units, final=f"✅ {name}: sums of {idx} written", delay=0.3)
        tasks.append(
            {
                "name": name,
                "task": f"Sum data/in_N.txt into out/sum_N.txt for N in {idx}",
                "inputs": [f"data/in_{i}.txt" for i in idx],
                "outputs": [f"out/sum_{i}.txt" for i in idx],
            }
        )
    outs = tuple(f"out/sum_{i}.txt" for i in range(DEMO_FILES))
    work = Script(
        (Unit("spawn", (Call("spawn_subagents", {"tasks": tasks}),), outs),),
        final="Both halves done.",
    )
    return Suite(
        "demo-subagents",
        {"work": work, **subs},
        phases=("work",),
        instructions="Sum each data/in_N.txt into out/sum_N.txt, with two subagents.",
        setup=_demo_setup,
        verify=_demo_verify,
    )


def suites_from_config(config: Config | Mapping[str, Any] | None, root: Path | None) -> list[str]:
    """Load the suite modules named by ``[providers.scripted] suites`` (paths from ``root``)."""
    if config is None:
        return []
    section = (
        config.get("providers", {}) if isinstance(config, Mapping) else config.section("providers")
    )
    settings = section.get("scripted", {}) if isinstance(section, Mapping) else {}
    paths = settings.get("suites", []) if isinstance(settings, Mapping) else []
    if isinstance(paths, str) or not all(isinstance(p, str) and p for p in paths):
        raise UsageError(
            f"[providers.scripted] suites is {paths!r}; it must be a list of paths, e.g. "
            'suites = ["bench/agent_suites"]'
        )
    return load_suites(paths, root)
