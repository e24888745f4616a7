"""Past its cap, the recovery log drops its oldest entries from the text it holds (their lengths
are in its stamp) instead of reading every row back at each recovery; the text is the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.domain.workspace import Workspace
from cairn.projection import recovery_log
from cairn.recovery.brief import recover


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace.init(tmp_path)
    yield w
    w.close()


def test_past_the_cap_the_log_is_cut_and_appended_as_a_full_render_gives(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery_log, "RECOVERY_LOG_ENTRIES", 3)
    monkeypatch.setattr(recovery_log, "LENGTHS_KEPT", 2)
    real = recovery_log._render
    renders: list[int] = []

    def counted(w: Workspace) -> tuple[str, list[int]]:
        renders.append(1)
        return real(w)

    monkeypatch.setattr(recovery_log, "_render", counted)
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    path = ws.root / "logs" / "compaction_recovery.log"
    for i in range(12):
        if i == 8:
            with ws.batch():  # two recoveries in one flush: two entries dropped at once
                recover(ws, trigger="compact", note=f"batched ü {i}")
                recover(ws, trigger="manual", note=f"batched ü {i}b")
        else:
            recover(ws, trigger="compact", note=f"noté {i}\nsecond line")
        assert path.read_bytes() == real(ws)[0].encode("utf-8"), i
    log = path.read_text(encoding="utf-8")
    assert log.startswith("(10 earlier recoveries are in the store")
    assert len(renders) <= 5, renders  # 13 recoveries; a full render only when the lengths ran out


def test_a_hand_edit_past_the_cap_is_rendered_over(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery_log, "RECOVERY_LOG_ENTRIES", 2)
    ws.create_task("f4", "", ["analysis"])
    for i in range(4):
        recover(ws, trigger="compact", note=f"n{i}")
    path = ws.root / "logs" / "compaction_recovery.log"
    path.write_text("edited by hand\n", encoding="utf-8")
    recover(ws, trigger="compact", note="n4")
    assert path.read_text(encoding="utf-8") == recovery_log.log_text(ws)
    assert "Note: n4" in path.read_text(encoding="utf-8")
