"""Refusals of the moderation check: one row each, counted per category for admins."""

from __future__ import annotations

from datetime import datetime

from .db import Database
from .repositories import _iso


class ModerationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        at: datetime,
        kind: str,
        category: str,
        moderator: str,
        owner_id: str | None = None,
        job_id: str | None = None,
    ) -> None:
        await self._db.conn.execute(
            "INSERT INTO moderation_refusals (at, owner_id, kind, category, moderator, job_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (_iso(at), owner_id, kind, category, moderator, job_id),
        )

    async def counts_since(self, since: datetime, until: datetime | None = None) -> dict[str, int]:
        """Refusals from ``since`` on (and before ``until``), per category."""
        sql, args = (
            "SELECT category, COUNT(*) AS n FROM moderation_refusals WHERE at >= ?",
            [_iso(since)],
        )
        if until is not None:
            sql += " AND at < ?"
            args.append(_iso(until))
        async with self._db.conn.execute(sql + " GROUP BY category", args) as cur:
            return {row["category"]: int(row["n"]) for row in await cur.fetchall()}
