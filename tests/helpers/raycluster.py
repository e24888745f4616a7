"""A throw-away local Ray cluster: a head and more nodes on loopback, in a temporary folder.

Used by ``tests/test_workers_ray.py`` (one cluster for the module) and ``bench/ray_bench.py``.
Every process one ``ray start`` leaves behind keeps that command's process group, so stopping
the cluster ends exactly those groups: never ``ray stop``, which ends every Ray on the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.2"  # loopback; Ray refuses 127.0.0.1 as the address of a node
BIN = Path(sys.executable).parent


def have_ray() -> bool:
    return (BIN / "ray").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry.name))
    return pids


def _stop_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while _group(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _group(pgid):
            return


@contextmanager
def local_cluster(nodes: int = 2, cpus: int = 2) -> Iterator[str]:
    """Start the cluster, yield its address (HOST:PORT), stop all of it after, also on failure."""
    tmp = Path(tempfile.mkdtemp(prefix="cairn-rayc-"))
    (tmp / "scratch").mkdir()
    port = free_port()
    # The tasks' scratch folders land in the cluster's folder, removed with it.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "TMPDIR": str(tmp / "scratch")}
    common = [
        f"--node-ip-address={HOST}",
        f"--num-cpus={cpus}",
        "--object-store-memory=100000000",
        f"--temp-dir={tmp}",
        "--disable-usage-stats",
    ]
    groups: list[int] = []
    try:
        for i in range(nodes):
            if i == 0:
                argv = ["--head", f"--port={port}", "--include-dashboard=false"]
            else:
                argv = [f"--address={HOST}:{port}"]
            proc = subprocess.Popen(
                [str(BIN / "ray"), "start", *argv, *common],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # its daemons keep this group: how we stop only ours
            )
            groups.append(proc.pid)
            out, _ = proc.communicate(timeout=180)
            if proc.returncode != 0:
                raise RuntimeError(f"ray start failed:\n{out[-2000:]}")
        yield f"{HOST}:{port}"
    finally:
        for pgid in reversed(groups):
            _stop_group(pgid)
        shutil.rmtree(tmp, ignore_errors=True)
