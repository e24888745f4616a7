"""A child that writes checkpoints, progress steps and next actions in a loop, to be SIGKILLed.

After each library call returns it appends one acknowledgement line to a separate file (``O_APPEND``,
one ``write`` a line, so a line is whole or absent). A write that was acknowledged must be in the
store after any kill; the checker in ``durability.py`` verifies that.

Modes:
  ``run WS ACK SEED WORKER [N]``  write N operations (default: until killed), then exit 0.
  ``cli WS ACK SEED WORKER N``    the same through ``cairn.cli.main`` (checkpoint write, progress).
  ``serve``                      a zygote: imports cairn once, then for each stdin line
                                 ``run WS ACK SEED WORKER`` forks a writer and prints its pid;
                                 ``reap PID`` waits for it and prints its exit status. Lets a test
                                 kill a hundred writers without paying a hundred interpreter starts.
"""

from __future__ import annotations

import hashlib
import os
import random
import sys
import time

KINDS = ("plan", "analysis", "notes")
TASK = "durable"
PHASE = "work"


def make_content(worker: str, i: int, rng: random.Random) -> str:
    """A checkpoint that carries its own checksum, so a torn or mixed version is detectable."""
    words = ["alpha", "beta", "gamma", "δέλτα", "日本語", "emoji 🧱", "line"]
    body = "\n".join(
        " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        for _ in range(rng.randint(1, 80))
    )
    head = f"# {worker} {i}\n\n{body}\n"
    return head + f"\nsha256 {hashlib.sha256(head.encode()).hexdigest()}\n"


def content_ok(text: str) -> bool:
    head, sep, tail = text.rpartition("\nsha256 ")
    if not sep:
        return False
    return tail.strip() == hashlib.sha256(head.encode()).hexdigest()


def ensure_task(ws_path: str) -> None:
    from cairn.domain.workspace import Workspace

    with Workspace.open(ws_path) as ws:
        ws.create_task(TASK, "kill test", [PHASE], exist_ok=True)
        if ws.task(TASK).phase(PHASE).state != "active":  # type: ignore[union-attr]
            ws.start_phase(TASK, PHASE)


def writer(ws_path: str, ack_path: str, seed: int, worker: str, n: int | None) -> None:
    from cairn.domain.workspace import Workspace

    rng = random.Random(seed)
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def acknowledge(line: str) -> None:
        os.write(ack, (line + "\n").encode("utf-8"))

    ws = Workspace.open(ws_path)
    acknowledge(f"ready {worker}")
    barrier = os.environ.get("CAIRN_TEST_BARRIER")
    if barrier:  # start together with the other writers
        while not os.path.exists(barrier):
            time.sleep(0.001)
    i = 0
    while n is None or i < n:
        op = rng.random()
        if op < 0.5:
            kind = rng.choice(KINDS)
            content = make_content(worker, i, rng)
            cp = ws.write_checkpoint(TASK, kind, content)
            acknowledge(f"checkpoint {kind} {cp.version} {cp.hash}")
        elif op < 0.82:
            text = f"{worker} step {i}"
            state = rng.choice(("done", "active", "todo", "failed"))
            ws.progress(TASK, text, state)
            acknowledge(f"step {state} {text}")
        elif op < 0.94:
            text = f"{worker} next {i}"
            ws.set_next(TASK, text)
            acknowledge(f"next {text}")
        else:
            from cairn.recovery.brief import recover

            recover(ws, trigger="crash", note=f"{worker} recovery {i}")
            acknowledge(f"recovery {worker} recovery {i}")
        i += 1
    ws.close()
    os.close(ack)


def cli_writer(ws_path: str, ack_path: str, seed: int, worker: str, n: int) -> None:
    """Like ``writer`` but through the command line's entry point, one command at a time."""
    import contextlib
    import io

    from cairn.cli import main

    rng = random.Random(seed)
    ack = os.open(ack_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(ack, f"ready {worker}\n".encode())
    barrier = os.environ.get("CAIRN_TEST_BARRIER")
    while barrier and not os.path.exists(barrier):
        time.sleep(0.001)
    notes = os.path.join(ws_path, f"notes-{worker}.md")
    for i in range(n):
        out, err = io.StringIO(), io.StringIO()
        if rng.random() < 0.5:
            kind = rng.choice(KINDS)
            with open(notes, "w", encoding="utf-8") as fh:
                fh.write(make_content(worker, i, rng))
            args = ["checkpoint", "write", TASK, kind, "--file", notes, "--json"]
        else:
            args = ["progress", TASK, f"{worker} step {i}", "--state", "done"]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["-C", ws_path, *args])
        if code != 0:
            sys.stderr.write(f"cairn {' '.join(args)} exited {code}: {err.getvalue()}")
            sys.exit(1)
        if args[0] == "checkpoint":
            import json

            d = json.loads(out.getvalue())
            line = f"checkpoint {d['kind']} {d['version']} {d['hash']}"
        else:
            line = f"step done {worker} step {i}"
        os.write(ack, (line + "\n").encode("utf-8"))


def serve() -> None:
    import importlib

    import cairn.domain.workspace  # noqa: F401  (loaded once, inherited by every fork)

    # A store backend's modules too (CAIRN_KILL_PRELOAD=cairn.store.postgres), when the trials use it.
    for module in filter(None, os.environ.get("CAIRN_KILL_PRELOAD", "").split(",")):
        importlib.import_module(module)

    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "run":
            _, ws_path, ack_path, seed, worker = parts
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    writer(ws_path, ack_path, int(seed), worker, None)
                except BaseException as exc:  # report, then leave without running atexit hooks
                    sys.stderr.write(f"writer failed: {type(exc).__name__}: {exc}\n")
                    code = 3
                finally:
                    os._exit(code)
            print(pid, flush=True)
        elif parts[0] == "reap":
            _, status = os.waitpid(int(parts[1]), 0)
            print(status, flush=True)


def main() -> None:
    if sys.argv[1] == "serve":
        serve()
    elif sys.argv[1] == "run":
        ws_path, ack_path, seed, worker = sys.argv[2:6]
        n = int(sys.argv[6]) if len(sys.argv) > 6 else None
        writer(ws_path, ack_path, int(seed), worker, n)
    elif sys.argv[1] == "cli":
        ws_path, ack_path, seed, worker, n = sys.argv[2:7]
        cli_writer(ws_path, ack_path, int(seed), worker, int(n))
    elif sys.argv[1] == "setup":
        ensure_task(sys.argv[2])


if __name__ == "__main__":
    main()
