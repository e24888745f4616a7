"""Streams: exactly-once appends by key, tail repair, one writer, clear errors; the tolerant reader."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import CairnError, ValidationError
from cairn.domain.streams import DEFAULT_SYNC, SyncPolicy, open_stream, read_jsonl
from cairn.domain.workspace import Workspace


def _key(r: dict[str, Any]) -> Any:
    return r["id"]


@pytest.fixture
def ws(ws_path: Path) -> Any:
    w = Workspace.open(ws_path)
    w.create_task("t1", "stream tests")
    yield w
    w.close()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_write_skip_and_resume(ws: Workspace) -> None:
    with open_stream(ws, "data/out.jsonl", _key, task_id="t1") as out:
        assert out.write({"id": 1, "v": "é"}) is True
        assert out.write({"id": 2}) is True
        assert out.write({"id": 1, "v": "other"}) is False
        assert 1 in out and 3 not in out
        assert len(out) == 2
    path = ws.root / "data/out.jsonl"
    assert [json.loads(x) for x in _lines(path)] == [{"id": 1, "v": "é"}, {"id": 2}]
    with open_stream(ws, "data/out.jsonl", _key) as out:
        assert out.keys() == {1, 2}
        assert out.write({"id": 2}) is False
        assert out.write({"id": 3}) is True
    assert len(_lines(path)) == 3
    types = [e.type for e in ws.events("t1", limit=20)]
    assert "stream.opened" in types and "stream.closed" in types


def test_tuple_keys_survive_reload(ws: Workspace) -> None:
    with open_stream(ws, "k.jsonl", lambda r: (r["a"], r["b"])) as out:
        out.write({"a": 1, "b": "x"})
    with open_stream(ws, "k.jsonl", lambda r: (r["a"], r["b"])) as out:
        assert (1, "x") in out
        assert out.write({"a": 1, "b": "x"}) is False


def test_torn_tail_truncated_and_recorded(ws: Workspace) -> None:
    with open_stream(ws, "s.jsonl", _key) as out:
        for i in range(3):
            out.write({"id": i})
    path = ws.root / "s.jsonl"
    with path.open("ab") as f:
        f.write(b'{"id": 3, "payl')
    with open_stream(ws, "s.jsonl", _key, task_id="t1") as out:
        assert out.repaired is not None and out.repaired["action"] == "truncated"
        assert out.keys() == {0, 1, 2}
        assert out.write({"id": 3, "payload": "x"})
    assert [json.loads(x)["id"] for x in _lines(path)] == [0, 1, 2, 3]
    repairs = ws.events("t1", types=["stream.repaired"])
    assert len(repairs) == 1 and repairs[0].data["bytes"] == len(b'{"id": 3, "payl')


def test_whole_tail_without_newline_is_completed(ws: Workspace) -> None:
    path = ws.root / "s.jsonl"
    path.write_bytes(b'{"id": 0}\n{"id": 1}')
    with open_stream(ws, "s.jsonl", _key) as out:
        assert out.repaired is not None and out.repaired["action"] == "completed"
        assert out.keys() == {0, 1}
        out.write({"id": 2})
    assert path.read_bytes() == b'{"id": 0}\n{"id": 1}\n{"id": 2}\n'


def test_second_writer_in_same_process_refused(ws: Workspace) -> None:
    with open_stream(ws, "s.jsonl", _key) as out:
        out.write({"id": 1})
        with pytest.raises(CairnError, match="already open for writing"):
            open_stream(ws, "s.jsonl", _key)
        out.write({"id": 2})
    with open_stream(ws, "s.jsonl", _key) as out:  # free again after close
        assert len(out) == 2


def test_second_writer_in_other_process_refused(ws: Workspace) -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: hold the stream open until killed
        try:
            os.close(r)
            cws = Workspace.open(ws.root, search=False)
            s = open_stream(cws, "s.jsonl", _key)
            s.write({"id": "child"})
            os.write(w, b"ready")
            time.sleep(30)
        finally:
            os._exit(0)
    os.close(w)
    try:
        assert os.read(r, 5) == b"ready"
        with pytest.raises(CairnError, match=rf"another writer \(process {pid}\)"):
            open_stream(ws, "s.jsonl", _key)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
    with open_stream(ws, "s.jsonl", _key) as out:
        assert out.keys() == {"child"}
        assert out.write({"id": "parent"})
    assert len(_lines(ws.root / "s.jsonl")) == 2


def test_key_none_and_key_error_name_the_record(ws: Workspace) -> None:
    with open_stream(ws, "s.jsonl", _key) as out:
        with pytest.raises(ValidationError, match=r"returned None.*'name': 'bob'"):
            out.write({"id": None, "name": "bob"})
        with pytest.raises(ValidationError, match=r"key function failed.*KeyError"):
            out.write({"name": "no id"})
        with pytest.raises(ValidationError, match="not hashable"):
            out.write({"id": {1, 2}})
    assert (ws.root / "s.jsonl").read_bytes() == b""


def test_unserializable_record_writes_nothing(ws: Workspace) -> None:
    with open_stream(ws, "s.jsonl", _key) as out:
        out.write({"id": 1})
        with pytest.raises(ValidationError, match=r"key 2 cannot be written as JSON.*set"):
            out.write({"id": 2, "tags": {"a"}})
        with pytest.raises(ValidationError, match="not JSON compliant"):
            out.write({"id": 3, "score": float("nan")})
        with pytest.raises(ValidationError, match="JSON objects"):
            out.write([1, 2])  # type: ignore[arg-type]
        assert 2 not in out and len(out) == 1
        assert out.write({"id": 2, "tags": ["a"]})
    assert [json.loads(x)["id"] for x in _lines(ws.root / "s.jsonl")] == [1, 2]


def test_path_outside_workspace_refused(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="outside the workspace"):
        open_stream(ws, "../elsewhere.jsonl", _key)
    with pytest.raises(ValidationError, match="outside the workspace"):
        open_stream(ws, "/etc/x.jsonl", _key)


def test_closed_stream_refuses_writes(ws: Workspace) -> None:
    out = open_stream(ws, "s.jsonl", _key)
    out.close()
    out.close()  # idempotent
    with pytest.raises(CairnError, match="closed"):
        out.write({"id": 1})


def test_bad_lines_in_middle_reported_not_fatal(ws: Workspace) -> None:
    path = ws.root / "s.jsonl"
    path.write_bytes(b'{"id": 1}\nnot json\n\n{"id": 2}\n[1]\n')
    with open_stream(ws, "s.jsonl", _key, task_id="t1") as out:
        assert out.keys() == {1, 2}
        assert [e.line for e in out.bad_lines] == [2, 5]
    ev = ws.events("t1", types=["stream.bad_lines"])
    assert ev and ev[0].data["count"] == 2


def test_sync_policy_parse() -> None:
    assert SyncPolicy.parse("every") == SyncPolicy(every=1)
    assert SyncPolicy.parse("n:100") == SyncPolicy(every=100)
    assert SyncPolicy.parse("ms:200") == SyncPolicy(interval_ms=200)
    assert SyncPolicy.parse("n:10,ms:50") == SyncPolicy(every=10, interval_ms=50)
    assert SyncPolicy.parse("none") == SyncPolicy()
    assert SyncPolicy(every=100, interval_ms=200) == DEFAULT_SYNC
    for bad in ("sometimes", "n:x", "n:0"):
        with pytest.raises(ValidationError):
            SyncPolicy.parse(bad)


def test_sync_policy_counts(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (calls.append(fd), real(fd))[1])
    with open_stream(ws, "a.jsonl", _key, sync="n:10") as out:
        for i in range(25):
            out.write({"id": i})
        assert len(calls) == 2
    assert len(calls) == 3  # and once on close
    calls.clear()
    with open_stream(ws, "b.jsonl", _key, sync="every") as out:
        for i in range(5):
            out.write({"id": i})
    assert len(calls) == 5
    calls.clear()
    with open_stream(ws, "c.jsonl", _key, sync="none") as out:
        for i in range(50):
            out.write({"id": i})
        assert calls == []
    assert len(calls) == 1


def test_no_progress_bar_when_not_a_tty(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    with open_stream(ws, "s.jsonl", _key, total=10) as out:
        assert out._progress is None
        for i in range(10):
            out.write({"id": i})
    assert capsys.readouterr().out == ""


def test_read_jsonl_reports_bad_lines(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"a": 1}\n{"a": 2\n\n\xff\xfe\n{"a": 3}\n{"a": 4, "b"')
    got = read_jsonl(p)
    assert got.records == [{"a": 1}, {"a": 3}]
    assert list(got) == got.records and len(got) == 2 and not got.ok
    assert [(e.line, e.error.split(" ")[0]) for e in got.errors] == [
        (2, "not"),
        (4, "not"),
        (6, "incomplete"),
    ]
    assert "UTF-8" in got.errors[1].error
    assert got.errors[0].text == '{"a": 2'
    assert "3 unreadable line(s)" in got.report()
    with pytest.raises(CairnError, match="no file"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_forked_child_does_not_inherit_the_stream(ws: Workspace) -> None:
    out = open_stream(ws, "s.jsonl", _key)
    out.write({"id": 1})
    r, w = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                out.write({"id": "from child"})
            except CairnError as exc:
                code = 0 if "belongs to the process" in str(exc) else 2
        finally:
            os.write(w, b"x")
            os.read(r2, 1)  # stay alive until the parent has reopened the stream
            os._exit(code)
    os.read(r, 1)
    out.close()
    # The child still runs, yet the lock went away with the parent's close.
    with open_stream(ws, "s.jsonl", _key) as again:
        assert again.keys() == {1}
    os.write(w2, b"x")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    for fd in (r, w, r2, w2):
        os.close(fd)


def test_progress_bar_on_a_terminal(ws: Workspace) -> None:
    import pty
    import sys

    script = (
        "import sys\n"
        "from cairn.domain.workspace import Workspace\n"
        "from cairn.domain.streams import open_stream\n"
        "ws = Workspace.open(sys.argv[1], search=False)\n"
        "with open_stream(ws, 'p.jsonl', lambda r: r['id'], total=40) as out:\n"
        "    for i in range(40):\n"
        "        out.write({'id': i})\n"
        "    print('bar', out._progress is not None)\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child execs
        os.execv(sys.executable, [sys.executable, "-c", script, str(ws.root)])
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    os.waitpid(pid, 0)
    os.close(fd)
    text = out.decode("utf-8", "replace")
    assert "bar True" in text and "40/40" in text, text[-500:]
