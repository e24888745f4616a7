"""Reviews, in SQL shared by the SQLite and PostgreSQL stores (``reviews``, ``review_responses``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.reviews import ReviewResponseRow, ReviewRow
from cairn.store.sql import Conn

_COLS = (
    "id, task_id, topic, round, question, concerns, context, reviewer, plan_version, prompt, "
    "state, request_path, created_at, updated_at"
)
_RESP = (
    "id, review_id, reviewer, provider, model, outcome, approved, recommendation, concerns, "
    "error, raw, attempts, input_tokens, output_tokens, response_path, created_at"
)
# A round waits for an answer only while no newer round of its topic exists.
_NOT_SUPERSEDED = (
    "NOT EXISTS (SELECT 1 FROM reviews AS n "
    "WHERE n.topic = reviews.topic AND n.round > reviews.round)"
)


def _row(r: dict[str, Any]) -> ReviewRow:
    return ReviewRow(
        r["id"],
        r["task_id"],
        r["topic"],
        r["round"],
        r["question"],
        tuple(json.loads(r["concerns"])),
        tuple(json.loads(r["context"])),
        r["reviewer"],
        r["plan_version"],
        r["state"],
        r["request_path"],
        r["created_at"],
        r["updated_at"],
        r["prompt"],
    )


def _resp(r: dict[str, Any]) -> ReviewResponseRow:
    return ReviewResponseRow(
        r["id"],
        r["review_id"],
        r["reviewer"],
        r["provider"],
        r["model"],
        r["outcome"],
        None if r["approved"] is None else bool(r["approved"]),
        r["recommendation"],
        tuple(json.loads(r["concerns"])),
        r["error"],
        tuple(json.loads(r["raw"])) if r["raw"] else (),
        r["attempts"],
        r["input_tokens"],
        r["output_tokens"],
        r["response_path"],
        r["created_at"],
    )


class SQLiteReviews:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def _many(self, where: str, params: Sequence[Any]) -> list[ReviewRow]:
        rows = self._c.execute(f"SELECT {_COLS} FROM reviews WHERE {where}", params).fetchall()
        return [_row(r) for r in rows]

    def add(self, row: ReviewRow) -> None:
        if self.get(row.id) is not None:
            raise DuplicateKey(f"review {row.id!r} exists already")
        self._c.execute(
            f"INSERT INTO reviews ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.id,
                row.task_id,
                row.topic,
                row.round,
                row.question,
                json.dumps(list(row.concerns), ensure_ascii=False),
                json.dumps([dict(c) for c in row.context]),
                row.reviewer,
                row.plan_version,
                row.prompt,
                row.state,
                row.request_path,
                row.created_at,
                row.updated_at,
            ),
        )

    def get(self, review_id: str) -> ReviewRow | None:
        found = self._many("id = ?", (review_id,))
        return found[0] if found else None

    def count_ids(self, prefix: str) -> int:
        # substr, not LIKE: a prefix holding '_' or '%' is taken literally.
        r = self._c.execute(
            "SELECT count(*) AS n FROM reviews WHERE substr(id, 1, ?) = ?", (len(prefix), prefix)
        ).fetchone()
        return int(r["n"])

    def last_round(self, topic: str) -> int:
        r = self._c.execute(
            "SELECT coalesce(max(round), 0) AS n FROM reviews WHERE topic = ?", (topic,)
        ).fetchone()
        return int(r["n"])

    def newer_round(self, topic: str, round: int) -> ReviewRow | None:
        found = self._many("topic = ? AND round > ? ORDER BY round DESC LIMIT 1", (topic, round))
        return found[0] if found else None

    def set_state(self, review_id: str, state: str, ts: str) -> None:
        cur = self._c.execute(
            "UPDATE reviews SET state = ?, updated_at = ? WHERE id = ?", (state, ts, review_id)
        )
        if not cur.rowcount:
            raise MissingRow(f"no review {review_id!r}")

    def of_topic(self, topic: str) -> list[ReviewRow]:
        return self._many("topic = ? ORDER BY round, id", (topic,))

    def newest(
        self, *, task_id: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[ReviewRow]:
        where, params = "1 = 1", []
        if open_only:
            where += " AND state = 'pending' AND " + _NOT_SUPERSEDED
        if task_id is not None:
            where += " AND task_id = ?"
            params.append(task_id)
        return self._many(where + " ORDER BY created_at DESC, id DESC LIMIT ?", (*params, limit))

    def waiting(self, limit: int) -> list[ReviewRow]:
        return self._many(
            f"state IN ('pending', 'failed') AND {_NOT_SUPERSEDED} "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (limit,),
        )

    def answered(self, limit: int) -> list[ReviewRow]:
        return self._many(
            "state IN ('approved', 'rejected') ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,)
        )

    def newest_of_plan(self, task_id: str) -> ReviewRow | None:
        found = self._many(
            "task_id = ? AND plan_version IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1",
            (task_id,),
        )
        return found[0] if found else None

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
        rid = int(
            self._c.execute(
                "SELECT coalesce(max(id), 0) + 1 AS n FROM review_responses"
            ).fetchone()["n"]
        )
        self._c.execute(
            f"INSERT INTO review_responses ({_RESP}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                review_id,
                reviewer,
                provider,
                model,
                outcome,
                None if approved is None else int(approved),
                recommendation,
                json.dumps(list(concerns), ensure_ascii=False),
                error,
                json.dumps(list(raw), ensure_ascii=False),
                attempts,
                input_tokens,
                output_tokens,
                response_path,
                ts,
            ),
        )
        return ReviewResponseRow(
            rid,
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

    def responses(self, review_id: str) -> list[ReviewResponseRow]:
        rows = self._c.execute(
            f"SELECT {_RESP} FROM review_responses WHERE review_id = ? ORDER BY id", (review_id,)
        ).fetchall()
        return [_resp(r) for r in rows]

    def count_responses(self, review_id: str, reviewer: str) -> int:
        r = self._c.execute(
            "SELECT count(*) AS n FROM review_responses WHERE review_id = ? AND reviewer = ?",
            (review_id, reviewer),
        ).fetchone()
        return int(r["n"])
