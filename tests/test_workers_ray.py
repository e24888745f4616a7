"""Workers on a real Ray cluster: a head and one more node started here on loopback, for the module.

Each scenario's orchestrator is its own process (a workflow script or `cairn run`), as in use: its
worker functions live in its ``__main__`` and reach the nodes by value, and it can be SIGKILLed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.core.procs import alive
from cairn.domain.workspace import Workspace
from helpers.raycluster import BIN, free_port, have_ray, local_cluster
from services import need


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head and one more node, two CPUs each, for the whole module."""
    need("Ray", have_ray(), "pip install 'cairn-agent[ray]'")

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # a SIGTERM to pytest still stops the cluster on the way out

    before = signal.signal(signal.SIGTERM, interrupt)
    try:
        with local_cluster(nodes=2, cpus=2) as address:
            yield address
    finally:
        signal.signal(signal.SIGTERM, before)


def _workspace(root: Path, **workers: str) -> Path:
    root.mkdir()
    ws = Workspace.init(root)
    ws.close()
    if workers:
        with (root / ".cairn" / "config.toml").open("a") as f:
            f.write("\n[workers]\n" + "".join(f'{k} = "{v}"\n' for k, v in workers.items()))
    return root


def _run(root: Path, address: str, script: str, *argv: str, timeout: float = 240) -> Any:
    (root / "orchestrate.py").write_text(textwrap.dedent(script))
    env = {**os.environ, "RAY_ADDRESS": address, "CAIRN_WORKERS_EXECUTOR": "ray"}
    return subprocess.run(
        [sys.executable, "orchestrate.py", *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _shown(stdout: str) -> Any:
    """The results the orchestrator printed (the last JSON list in its output)."""
    return json.loads(next(ln for ln in reversed(stdout.splitlines()) if ln.startswith("[")))


def _events(root: Path, type_: str) -> list[dict[str, Any]]:
    with Workspace.open(root, search=False) as ws:
        return [e.data for e in ws.events(types=[type_], limit=1000)]


PRELUDE = """
import json, os, sys, time
from pathlib import Path
import cairn
from cairn.domain.workers import Worker, spawn_many
from cairn.domain.workspace import Workspace

ROOT = Path.cwd()

def count(name):
    with (ROOT / "runs").joinpath(name).open("a") as f:
        f.write("x\\n")
    return len((ROOT / "runs" / name).read_text().splitlines())

def show(results):
    print(json.dumps([
        {"name": r.name, "state": r.state, "summary": r.summary, "reused": r.reused,
         "log": r.log_path, "exit_code": r.exit_code} for r in results
    ]))
"""


def test_eight_workers_on_two_nodes_with_capped_summaries_and_logs(
    cluster: str, tmp_path: Path
) -> None:
    root = _workspace(tmp_path / "ws")
    script = (
        PRELUDE
        + """
def job(i):
    print(f"stdout of {i}")
    print(f"stderr of {i}", file=sys.stderr)
    time.sleep(0.5)
    count(f"w{i}")
    return ("long " * 400) if i == 7 else {"worker": i, "pid": os.getpid()}

(ROOT / "runs").mkdir(exist_ok=True)
ws = Workspace.open(ROOT, search=False)
ws.create_task("t", "eight", phases=["work"])
show(spawn_many(ws, "t", [Worker(f"w{i}", fn=job, args=(i,), summary_chars=200) for i in range(8)],
                max_parallel=8))
"""
    )
    r = _run(root, cluster, script)
    assert r.returncode == 0, r.stderr[-3000:]
    results = _shown(r.stdout)
    assert [x["state"] for x in results] == ["done"] * 8
    assert json.loads(results[0]["summary"])["worker"] == 0
    assert "[summary truncated" in results[7]["summary"] and len(results[7]["summary"]) <= 200
    finished = _events(root, "worker.finished")
    assert sorted(e["worker"] for e in finished) == sorted(f"w{i}" for i in range(8))
    assert {e["executor"] for e in finished} == {"ray"}
    assert len({e["node"] for e in finished}) == 2, "the tasks ran on both nodes"
    for i in range(8):
        assert (root / "runs" / f"w{i}").read_text() == "x\n"
        log = (root / results[i]["log"]).read_text()
        assert f"stdout of {i}" in log and f"stderr of {i}" in log, log
        assert "=== done (exit code 0)" in log
    assert "--- full summary" in (root / results[7]["log"]).read_text()
    status = (root / "CURRENT_WORK_STATUS.md").read_text()
    assert "| w3 | t | ✅ done |" in status


WORKFLOW = (
    PRELUDE
    + """
task = cairn.open(".").task("t", "resume on Ray")

def job(name, slow):
    n = count(name)
    if slow and n == 1:
        time.sleep(8)  # still running when its orchestrator is killed
        count(name + ".late")  # only if Ray let a dead driver's task go on
    else:
        time.sleep(0.3)
    return f"{name} result"

@task.phase("work")
def work(ctx):
    (ROOT / "runs").mkdir(exist_ok=True)
    show(ctx.spawn_many([Worker(f"w{i}", fn=job, args=(f"w{i}", i >= 4)) for i in range(8)],
                        max_parallel=8))

if __name__ == "__main__":
    task.run()
"""
)


def test_orchestrator_sigkill_then_resume_records_each_result_once(
    cluster: str, tmp_path: Path
) -> None:
    root = _workspace(tmp_path / "ws")
    (root / "orchestrate.py").write_text(WORKFLOW)
    env = {**os.environ, "RAY_ADDRESS": cluster, "CAIRN_WORKERS_EXECUTOR": "ray"}
    cmd = [str(BIN / "cairn"), "run", "orchestrate.py"]
    first = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            done = (
                {e["worker"] for e in _events(root, "worker.finished")}
                if (root / "runs").exists()
                else set()
            )
            late = [p for p in (root / "runs").glob("w[4-7]")] if (root / "runs").exists() else []
            if done >= {"w0", "w1", "w2", "w3"} and len(late) == 4:
                break
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            time.sleep(0.1)
        else:
            raise AssertionError("the first run did not get going")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_at = time.monotonic()
    assert _events(root, "worker.finished") and {
        e["worker"] for e in _events(root, "worker.finished")
    } == {"w0", "w1", "w2", "w3"}

    second = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=240)
    assert second.returncode == 0, second.stderr[-3000:]
    results = _shown(second.stdout)
    assert [x["state"] for x in results] == ["done"] * 8
    assert [x["summary"] for x in results] == [f"w{i} result" for i in range(8)]
    assert [x["reused"] for x in results] == [True] * 4 + [False] * 4
    finished = _events(root, "worker.finished")
    assert sorted(e["worker"] for e in finished) == sorted(f"w{i}" for i in range(8)), finished
    interrupted = _events(root, "worker.failed")
    assert sorted(e["worker"] for e in interrupted) == [f"w{i}" for i in range(4, 8)]
    for i in range(4):  # finished before the kill: not run again
        assert (root / "runs" / f"w{i}").read_text() == "x\n"
    for i in range(4, 8):  # interrupted: run once more
        assert (root / "runs" / f"w{i}").read_text() == "x\nx\n"
    time.sleep(max(0.0, 9 - (time.monotonic() - killed_at)))
    assert not list((root / "runs").glob("*.late")), "Ray ended the dead orchestrator's tasks"


def test_timeouts_cancel_the_task_and_keep_its_log(cluster: str, tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    script = (
        PRELUDE
        + """
def stuck():
    print("about to hang", flush=True)
    time.sleep(60)

ws = Workspace.open(ROOT, search=False)
ws.create_task("t", "limits", phases=["work"])
show(spawn_many(ws, "t", [
    Worker("stuck", fn=stuck, timeout=2),
    Worker("hang", cmd=["sh", "-c", "echo $$ > hang.pid; echo started; exec sleep 60"], timeout=2),
    Worker("quick", cmd=["sh", "-c", "echo out-line; echo err-line >&2"], timeout=30),
    Worker("closes", fn=lambda: str(ws.root)),  # the open workspace cannot travel
], max_parallel=4))
"""
    )
    r = _run(root, cluster, script)
    assert r.returncode == 0, r.stderr[-3000:]
    stuck, hang, quick, closes = _shown(r.stdout)
    assert stuck["state"] == hang["state"] == "timeout"
    assert "timed out after 2 s" in stuck["summary"] and "about to hang" in stuck["summary"]
    assert "about to hang" in (root / stuck["log"]).read_text()
    assert "started" in (root / hang["log"]).read_text()
    assert not alive(int((root / "hang.pid").read_text()), None), "its process group was killed"
    assert quick["state"] == "done"
    log = (root / quick["log"]).read_text()
    assert "out-line" in log and "err-line" in log
    assert closes["state"] == "failed"
    assert "could not be sent to the Ray cluster" in closes["summary"]
    states = {e["worker"]: e["state"] for e in _events(root, "worker.failed")}
    assert states == {"stuck": "timeout", "hang": "timeout", "closes": "failed"}


def test_ship_mode_sends_inputs_and_brings_outputs_back(cluster: str, tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", files="ship")
    (root / "data").mkdir()
    (root / "data" / "in.txt").write_text("three\nlines\nhere\n")
    script = (
        PRELUDE
        + """
def lines():
    assert Path.cwd() != ROOT  # a scratch folder on the node
    n = len(Path("data/in.txt").read_text().splitlines())
    Path("out").mkdir()
    Path("out/count.txt").write_text(f"{n}\\n")
    Path("out/summary.md").write_text(f"counted {n} lines")

ws = Workspace.open(ROOT, search=False)
ws.create_task("t", "ship", phases=["work"])
show(spawn_many(ws, "t", [Worker("lines", fn=lines, inputs=["data/in.txt"],
                                 outputs=["out/count.txt", "out/summary.md"])]))
"""
    )
    r = _run(root, cluster, script)
    assert r.returncode == 0, r.stderr[-3000:]
    (res,) = _shown(r.stdout)
    assert res["state"] == "done", res
    assert res["summary"] == "counted 3 lines"
    assert (root / "out" / "count.txt").read_text() == "3\n"


def test_unreachable_cluster_is_one_clear_line(tmp_path: Path) -> None:
    need("Ray", have_ray(), "pip install 'cairn-agent[ray]'")
    root = _workspace(tmp_path / "ws", executor="ray")
    (root / "wf.py").write_text(
        textwrap.dedent("""
        import cairn
        task = cairn.open(".").task("t", "nowhere")

        @task.phase("work")
        def work(ctx):
            ctx.spawn_many([cairn.Worker("w", cmd=["true"])])

        if __name__ == "__main__":
            task.run()
        """)
    )
    env = {**os.environ, "RAY_ADDRESS": f"127.0.0.1:{free_port()}"}
    env.pop("CAIRN_WORKERS_EXECUTOR", None)  # the workspace's [workers] executor = "ray"
    started = time.monotonic()
    r = subprocess.run(
        [str(BIN / "cairn"), "run", "wf.py"], cwd=root, env=env, capture_output=True, text=True
    )
    assert r.returncode == 1
    (line,) = r.stderr.strip().splitlines()
    assert "cannot reach the Ray cluster at 127.0.0.1:" in line and "ray start --head" in line
    assert time.monotonic() - started < 30
    with Workspace.open(root, search=False) as ws, ws.store.read() as tx:
        assert tx.runs.of_task("t") == [], "no worker was started"


def test_executor_setting_is_checked(tmp_path: Path) -> None:
    from cairn.core.errors import UsageError

    root = _workspace(tmp_path / "ws", executor="spark")
    with pytest.raises(
        UsageError, match=r"\[workers\] executor 'spark' must be one of: local, ray"
    ):
        Workspace.open(root, search=False)


def test_executor_override_is_checked(ws_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cairn.core.errors import ValidationError
    from cairn.domain.workers import Worker, executor_name, spawn_many

    ws = Workspace.open(ws_path, search=False)
    assert executor_name(ws) == "local"
    monkeypatch.setenv("CAIRN_WORKERS_EXECUTOR", "ray")
    assert executor_name(ws) == "ray"
    monkeypatch.setenv("CAIRN_WORKERS_EXECUTOR", "slurm")
    ws.create_task("t", phases=["work"])
    with pytest.raises(ValidationError, match="CAIRN_WORKERS_EXECUTOR='slurm' is not an executor"):
        spawn_many(ws, "t", [Worker("w", cmd=["true"])])
    ws.close()
