"""Every JSON shape a command prints is named in docs/json.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = re.compile(r"cairn\.[a-z_]+/\d+")


def test_every_schema_in_the_code_is_documented_in_json_md() -> None:
    in_code = {
        m.group(0)
        for p in (ROOT / "src" / "cairn").rglob("*.py")
        for m in SCHEMA.finditer(p.read_text(encoding="utf-8"))
    }
    assert len(in_code) > 10  # the scan found the shapes at all
    doc = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    missing = sorted(s for s in in_code if f"`{s}`" not in doc)
    assert not missing, f"add a section for {missing} to docs/json.md"
