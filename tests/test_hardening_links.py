"""Defect 3 of issue 11: a file of the readable tree replaced by a link out of the workspace (or a
FIFO) is never read through: not as a hand edit, not into a recovery brief, and nothing is lost."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from helpers.cli import run

SECRET = "TOPSECRET-not-for-the-agent"


@pytest.fixture
def planted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    assert run(capsys, None, "init", str(root)).code == 0
    assert run(capsys, root, "task", "new", "t", "--phases", "a").code == 0
    assert run(capsys, root, "checkpoint", "write", "t", "analysis", stdin="mine\n").code == 0
    return root, secret


def _history(capsys: pytest.CaptureFixture[str], root: Path) -> list[str]:
    r = run(capsys, root, "checkpoint", "history", "t", "analysis", "--json")
    assert r.code == 0, r.err
    versions = r.json()["checkpoints"]
    out = []
    for v in versions:
        shown = run(capsys, root, "checkpoint", "show", "t", "analysis", "--version",
                    str(v["version"]))  # fmt: skip
        out.append(shown.out)
    return out


def test_an_artifact_linked_outside_is_not_ingested_nor_recovered(
    planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, secret = planted
    art = root / "artifacts" / "t_analysis.md"
    art.unlink()
    art.symlink_to(secret)
    r = run(capsys, root, "status")
    assert r.code == 0, r.err
    warnings = [ln for ln in r.err.splitlines() if "outside the workspace" in ln]
    assert len(warnings) == 1 and "not read" in warnings[0], r.err
    assert SECRET not in r.out + r.err
    # The link itself is kept aside, the artifact is the store's version again, the secret as it was.
    kept = [p for p in (root / "artifacts").iterdir() if ".refused-" in p.name]
    assert len(kept) == 1 and kept[0].is_symlink() and os.readlink(kept[0]) == str(secret)
    assert not art.is_symlink() and art.read_text() == "mine\n"
    assert secret.read_text() == SECRET + "\n"
    assert all(SECRET not in v for v in _history(capsys, root))
    brief = run(capsys, root, "recover")
    assert brief.code == 0 and SECRET not in brief.out
    log = run(capsys, root, "log", "--type", "checkpoint.link_refused", "--json")
    (event,) = log.json()["events"]
    assert event["data"]["path"] == "artifacts/t_analysis.md"
    assert event["data"]["kept_as"] == f"artifacts/{kept[0].name}"
    # Said once: the next command has nothing more to say.
    again = run(capsys, root, "status")
    assert again.code == 0 and "outside the workspace" not in again.err


def test_a_link_planted_before_the_first_write_is_not_adopted(
    planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, secret = planted
    (root / "artifacts" / "t_plan.md").symlink_to(secret)
    r = run(capsys, root, "checkpoint", "write", "t", "plan", stdin="the plan\n")
    assert r.code == 0, r.err
    assert "outside the workspace" in r.err
    h = run(capsys, root, "checkpoint", "history", "t", "plan", "--json").json()["checkpoints"]
    assert len(h) == 1 and h[0]["source"] == "write"
    assert (root / "artifacts" / "t_plan.md").read_text() == "the plan\n"
    assert secret.read_text() == SECRET + "\n"


def test_refresh_and_a_checkpoint_write_do_not_read_through_the_link(
    planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, secret = planted
    art = root / "artifacts" / "t_analysis.md"
    art.unlink()
    art.symlink_to(secret)
    r = run(capsys, root, "refresh")
    assert r.code == 0, r.err
    art.unlink()
    art.symlink_to(secret)
    r = run(capsys, root, "checkpoint", "write", "t", "analysis", stdin="second\n")
    assert r.code == 0, r.err
    assert all(SECRET not in v for v in _history(capsys, root))
    assert art.read_text() == "second\n"


def test_a_link_that_stays_inside_is_still_a_hand_edit(
    planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _secret = planted
    (root / "notes.md").write_text("edited through an inside link\n")
    art = root / "artifacts" / "t_analysis.md"
    art.unlink()
    art.symlink_to(root / "notes.md")
    r = run(capsys, root, "status")
    assert r.code == 0 and "warning" not in r.err, r.err
    assert "edited through an inside link\n" in _history(capsys, root)


def test_a_fifo_in_place_of_an_artifact_does_not_hang(
    planted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _secret = planted
    art = root / "artifacts" / "t_analysis.md"
    art.unlink()
    os.mkfifo(art)
    done: list[int] = []
    t = threading.Thread(target=lambda: done.append(run(capsys, root, "status").code))
    t.start()
    t.join(30)
    if t.is_alive():  # unblock the reader so the test ends, then fail
        with open(art, "wb"):
            pass
        t.join(5)
        pytest.fail("cairn status hung on a FIFO in place of an artifact")
    assert done == [0]
    assert art.read_text() == "mine\n"


@pytest.mark.parametrize("where", ["requests", "responses"])
def test_review_files_linked_outside_are_set_aside_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    assert run(capsys, None, "init", str(root)).code == 0
    assert run(capsys, root, "task", "new", "t", "--phases", "a").code == 0
    asked = run(
        capsys, root, "review", "request", "--task", "t", "--topic", "x", "--question", "q",
        "--reviewer", "human", "--json",
    )  # fmt: skip
    assert asked.code == 0, asked.err
    review_id = asked.json()["id"]
    answer = run(capsys, root, "review", "answer", review_id, "--approve", "--recommendation", "ok")
    assert answer.code == 0, answer.err
    (f,) = list((root / "reviews" / where).iterdir())
    f.unlink()
    f.symlink_to(secret)
    r = run(capsys, root, "review", "list")
    assert r.code == 0, r.err
    assert SECRET not in r.out
    assert f.exists() and not f.is_symlink() and SECRET not in f.read_text()
    assert secret.read_text() == SECRET
