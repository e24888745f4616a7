"""The plain-config reader (cairn.core.config.read_plain) reads what tomllib reads, or leaves the
file to tomllib: generated configs, every config cairn init has written, and near misses."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.config import DEFAULT_CONFIG, load_config, read_plain

BARE = st.text("abcxyzAZ09_-", min_size=1, max_size=6)
SPACE = st.text(" \t", max_size=2)
COMMENT = st.one_of(
    st.just(""),
    st.builds(lambda s, t: f"{s}#{t}", SPACE, st.text(max_size=12)),  # any character, even \x00
)
INT = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["5_000_000", "1_0", "+7", "-0", "+0", "00", "01", "1__0", "_1", "1_", "0x1F"]),
)
STR = st.one_of(
    st.text(max_size=10).map(lambda t: f'"{t}"'),  # quotes, backslashes, control chars and all
    st.text(max_size=6).map(lambda t: f"'{t}'"),
    st.sampled_from(['"a\\tb"', '"""x"""', '"\\u00e9"']),
)
VALUE = st.one_of(
    INT, STR, st.sampled_from(["true", "false", "True", "1.5", "[1, 2]", "{a = 1}", "1979-05-27"])
)
KEY = st.one_of(BARE, st.sampled_from(['"quoted"', "a.b", "a b", ""]))
LINE = st.one_of(
    st.builds(lambda a, k, b, v, c: f"{a}{k}{b}={b}{v}{c}", SPACE, KEY, SPACE, VALUE, COMMENT),
    st.builds(lambda a, t, c: f"{a}[{t}]{c}", SPACE, KEY, COMMENT),
    st.builds(lambda a, t: f"{a}[[{t}]]", SPACE, BARE),
    COMMENT,
    SPACE,
)
DOC = st.tuples(st.lists(LINE, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))


def _same_as_tomllib(text: str) -> bool:
    """True when the fast reader answered, False when it left the text to tomllib; fails when
    it answered differently from tomllib (or answered where tomllib refuses the text)."""
    fast = read_plain(text)
    try:
        slow = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert fast is None, text
        return False
    if fast is not None:
        assert fast == slow, text
        assert [type(v) for v in fast.values()] == [type(v) for v in slow.values()]
        return True
    return False


@settings(max_examples=3000, deadline=None)
@given(DOC)
def test_the_plain_reader_agrees_with_tomllib(doc: tuple[list[str], str]) -> None:
    lines, newline = doc
    _same_as_tomllib(newline.join(lines))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(BARE, st.lists(st.tuples(BARE, st.one_of(st.integers(), BARE, st.booleans())))),
        max_size=5,
    )
)
def test_plain_configs_are_read_without_tomllib(tables: list[tuple[str, list[Any]]]) -> None:
    out, seen = [], set()
    for name, pairs in tables:
        if name in seen:
            continue
        seen.add(name)
        out.append(f"[{name}]  # a table")
        keys = set()
        for key, value in pairs:
            if key in keys:
                continue
            keys.add(key)
            shown = str(value).lower() if isinstance(value, bool) else value
            shown = f'"{shown}"' if isinstance(value, str) else shown
            out.append(f"{key} = {shown}   # the {key}")
    assert _same_as_tomllib("\n".join(out)) is True


def _written_defaults() -> list[str]:
    """DEFAULT_CONFIG as every earlier cairn wrote it (from the repository's history)."""
    root = Path(__file__).resolve().parents[1]
    found = [DEFAULT_CONFIG]
    try:
        revs = subprocess.run(
            ["git", "log", "--format=%H", "--", "src/cairn/core/config.py", "src/cairn/config.py"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return found
    for rev in revs:
        for path in ("src/cairn/core/config.py", "src/cairn/config.py"):
            src = subprocess.run(
                ["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True
            ).stdout
            if 'DEFAULT_CONFIG = """\\\n' in src:
                body = src.split('DEFAULT_CONFIG = """\\\n', 1)[1].split('"""', 1)[0]
                found.append(body)
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("text", _written_defaults())
def test_every_config_cairn_init_wrote_is_read_without_tomllib(text: str) -> None:
    assert _same_as_tomllib(text) is True


def test_a_config_outside_the_plain_lines_is_read_by_tomllib(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[recovery]\nmax_tokens = 3_000\n[hooks]\nratio = 0.5\nskip = ["a"]\n')
    got = load_config(cfg)
    assert got.brief_max_tokens == 3000
    assert got.section("hooks") == {"ratio": 0.5, "skip": ["a"]}
    cfg.write_text("[recovery]\nmax_tokens = 1\n[recovery]\n")
    with pytest.raises(Exception, match="not valid TOML"):
        load_config(cfg)


def test_a_plain_config_does_not_import_tomllib(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from cairn.core.config import load_config\n"
        f"c = load_config(Path({str(tmp_path / 'config.toml')!r}))\n"
        "print(c.max_checkpoint_bytes, 'tomllib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["5000000", "False"], out.stderr
