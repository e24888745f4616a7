"""Validation of names and paths from users and agents: nothing may land outside the workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core import names
from cairn.core.errors import ValidationError

GOOD_TASKS = ["finding4", "F4", "a", "task-1.2_b", "0", "x" * names.MAX_NAME]
BAD_TASKS = [
    "",
    "../x",
    "..",
    ".",
    ".hidden",
    "a/b",
    "a\\b",
    "/abs",
    "C:\\x",
    "a\x00b",
    "x" * (names.MAX_NAME + 1),
    "x" * 10_000,
    "a b",
    "naïve",
    "tab\t",
    "new\nline",
    "a..b",
    "-leading-dash",
    "_leading",
]


@pytest.mark.parametrize("value", GOOD_TASKS)
def test_good_task_ids(value: str) -> None:
    assert names.task_id(value) == value


@pytest.mark.parametrize("value", BAD_TASKS, ids=lambda v: repr(v[:12]))
def test_bad_task_ids(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        names.task_id(value)
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 300  # one short line, even for a 10 KB name
    assert "\x00" not in msg


@pytest.mark.parametrize("value", ["plan", "plan_approved", "custom-kind2", "0"])
def test_good_kinds(value: str) -> None:
    assert names.kind(value) == value
    assert names.phase_name(value) == value


@pytest.mark.parametrize(
    "value", ["Plan", "PLAN", "plan approved", "../plan", "plan.md", "", "k" * 65, "p\x00"]
)
def test_bad_kinds(value: str) -> None:
    with pytest.raises(ValidationError):
        names.kind(value)


def test_uniqueness_key_is_case_insensitive() -> None:
    assert names.task_key("Finding4") == names.task_key("FINDING4") == names.task_key("finding4")


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_accepted_name_is_a_plain_file_name_part(value: str) -> None:
    """Whatever is accepted is safe to put into artifacts/<task>_<kind>.md."""
    for check in (names.task_id, names.kind):
        try:
            check(value)
        except ValidationError:
            continue
        assert value and len(value) <= names.MAX_NAME
        assert "/" not in value and "\\" not in value and "\x00" not in value
        assert not value.startswith(".") and ".." not in value
        assert value.isascii() and value.isprintable() and " " not in value


# -- inside(): every user path -----------------------------------------------------------------
def test_inside_accepts_paths_in_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    assert names.inside(tmp_path, "src/a.py") == (tmp_path / "src/a.py").resolve()
    assert names.inside(tmp_path, "./src/../src/a.py") == (tmp_path / "src/a.py").resolve()
    assert names.inside(tmp_path, str(tmp_path / "b.md")) == (tmp_path / "b.md").resolve()
    assert names.inside(tmp_path, ".") == tmp_path.resolve()


@pytest.mark.parametrize(
    "bad", ["../x", "../../etc/passwd", "/etc/passwd", "src/../../x", "a\x00b", ""]
)
def test_inside_refuses_paths_outside(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError):
        names.inside(tmp_path, bad)


def test_inside_refuses_a_sibling_with_a_common_prefix(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (tmp_path / "proj2").mkdir()
    with pytest.raises(ValidationError):
        names.inside(root, str(tmp_path / "proj2" / "x"))
    with pytest.raises(ValidationError):
        names.inside(root, "../proj2/x")


def test_inside_follows_symlinks_before_checking(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(ValidationError, match="outside the workspace"):
        names.inside(root, "link/key.pem")
    (root / "inner").mkdir()
    (root / "ok").symlink_to(root / "inner")
    assert names.inside(root, "ok/x") == (root / "inner" / "x").resolve()


@given(st.lists(st.sampled_from(["..", ".", "a", "b", "", "/"]), max_size=8))
@settings(max_examples=300, deadline=None)
def test_inside_never_returns_a_path_outside(parts: list[str]) -> None:
    root = Path(os.path.realpath("/tmp")) / "cairn-names-root"
    raw = "/".join(parts)
    try:
        p = names.inside(root, raw)
    except ValidationError:
        return
    assert p == root.resolve() or root.resolve() in p.parents


@settings(max_examples=3000)
@given(
    st.text(
        alphabet=st.sampled_from([*"aZ09._-/ \n\t\x00\x7fé²ſK", "\u212a", "İ", "٣", "Ａ"]),
        max_size=12,
    )
)
def test_the_name_rules_are_the_patterns_they_replace(value: str) -> None:
    import re

    assert names._is_task_id(value) == bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value))
    assert names._is_kind(value) == bool(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value))
