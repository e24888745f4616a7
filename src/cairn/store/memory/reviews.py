"""Reviews in memory: rows by id (replaced whole), responses appended."""

from __future__ import annotations

import dataclasses

from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.reviews import ReviewResponseRow, ReviewRow
from cairn.store.memory.state import MemoryState

_REVIEWS, _RESPONSES = "reviews", "review_responses"


def _newest_first(rows: list[ReviewRow]) -> list[ReviewRow]:
    return sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)


class MemoryReviews:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def _rows(self) -> dict[str, ReviewRow]:
        rows: dict[str, ReviewRow] = self._s.extra.get(_REVIEWS, {})
        return rows

    def _responses(self) -> list[ReviewResponseRow]:
        rows: list[ReviewResponseRow] = self._s.extra.get(_RESPONSES, [])
        return rows

    def _superseded(self, row: ReviewRow) -> bool:
        return self.newer_round(row.topic, row.round) is not None

    def add(self, row: ReviewRow) -> None:
        if row.id in self._rows():
            raise DuplicateKey(f"review {row.id!r} exists already")
        self._s.extra[_REVIEWS] = {**self._rows(), row.id: row}

    def get(self, review_id: str) -> ReviewRow | None:
        return self._rows().get(review_id)

    def count_ids(self, prefix: str) -> int:
        return sum(1 for rid in self._rows() if rid.startswith(prefix))

    def last_round(self, topic: str) -> int:
        return max((r.round for r in self._rows().values() if r.topic == topic), default=0)

    def newer_round(self, topic: str, round: int) -> ReviewRow | None:
        newer = [r for r in self._rows().values() if r.topic == topic and r.round > round]
        return max(newer, key=lambda r: r.round) if newer else None

    def set_state(self, review_id: str, state: str, ts: str) -> None:
        row = self.get(review_id)
        if row is None:
            raise MissingRow(f"no review {review_id!r}")
        self._s.extra[_REVIEWS] = {
            **self._rows(),
            review_id: dataclasses.replace(row, state=state, updated_at=ts),
        }

    def of_topic(self, topic: str) -> list[ReviewRow]:
        return sorted(
            (r for r in self._rows().values() if r.topic == topic), key=lambda r: (r.round, r.id)
        )

    def newest(
        self, *, task_id: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[ReviewRow]:
        rows = [
            r
            for r in self._rows().values()
            if (task_id is None or r.task_id == task_id)
            and (not open_only or (r.state == "pending" and not self._superseded(r)))
        ]
        return _newest_first(rows)[: max(limit, 0)]

    def waiting(self, limit: int) -> list[ReviewRow]:
        rows = [
            r
            for r in self._rows().values()
            if r.state in ("pending", "failed") and not self._superseded(r)
        ]
        return _newest_first(rows)[: max(limit, 0)]

    def answered(self, limit: int) -> list[ReviewRow]:
        rows = [r for r in self._rows().values() if r.state in ("approved", "rejected")]
        rows.sort(key=lambda r: (r.updated_at, r.id), reverse=True)
        return rows[: max(limit, 0)]

    def newest_of_plan(self, task_id: str) -> ReviewRow | None:
        rows = [
            r for r in self._rows().values() if r.task_id == task_id and r.plan_version is not None
        ]
        return _newest_first(rows)[0] if rows else None

    def add_response(
        self,
        *,
        review_id: str,
        reviewer: str,
        provider: str,
        model: str | None,
        outcome: str,
        approved: bool | None,
        recommendation: str | None,
        concerns: tuple[str, ...],
        error: str | None,
        raw: tuple[str, ...],
        attempts: int,
        input_tokens: int | None,
        output_tokens: int | None,
        response_path: str,
        ts: str,
    ) -> ReviewResponseRow:
        have = self._responses()
        row = ReviewResponseRow(
            have[-1].id + 1 if have else 1,
            review_id,
            reviewer,
            provider,
            model,
            outcome,
            approved,
            recommendation,
            tuple(concerns),
            error,
            tuple(raw),
            attempts,
            input_tokens,
            output_tokens,
            response_path,
            ts,
        )
        self._s.extra[_RESPONSES] = [*have, row]
        return row

    def responses(self, review_id: str) -> list[ReviewResponseRow]:
        return [r for r in self._responses() if r.review_id == review_id]

    def count_responses(self, review_id: str, reviewer: str) -> int:
        return sum(1 for r in self.responses(review_id) if r.reviewer == reviewer)
