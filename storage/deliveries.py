"""Deliveries and uploads: what has already left the building, so nothing leaves twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .db import Database
from .repositories import _iso, _parse, now


@dataclass(slots=True)
class DeliveryRecord:
    job_id: str
    target: str
    state: str
    message_id: str | None
    started_at: datetime
    sent_at: datetime | None


class DeliveryRepository:
    """A delivery is claimed before posting and confirmed after.

    A claim that exists blocks a second one: if the process dies between claiming and
    confirming, the post may or may not have gone out; we choose never to post twice (at most
    once) and leave the ``sending`` row for an admin to see.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, job_id: str, target: str) -> bool:
        cursor = await self._db.conn.execute(
            "INSERT OR IGNORE INTO deliveries (job_id, target, state, started_at) "
            "VALUES (?, ?, 'sending', ?)",
            (job_id, target, _iso(now())),
        )
        return cursor.rowcount == 1

    async def confirm(self, job_id: str, target: str, message_id: str | None = None) -> None:
        await self._db.conn.execute(
            "UPDATE deliveries SET state = 'sent', message_id = ?, sent_at = ? "
            "WHERE job_id = ? AND target = ?",
            (message_id, _iso(now()), job_id, target),
        )

    async def release(self, job_id: str, target: str) -> None:
        """Drop a claim whose send failed for sure (the platform answered with an error)."""
        await self._db.conn.execute(
            "DELETE FROM deliveries WHERE job_id = ? AND target = ? AND state = 'sending'",
            (job_id, target),
        )

    async def for_job(self, job_id: str) -> list[DeliveryRecord]:
        async with self._db.conn.execute(
            "SELECT * FROM deliveries WHERE job_id = ? ORDER BY started_at", (job_id,)
        ) as cur:
            rows = await cur.fetchall()
        return [
            DeliveryRecord(
                job_id=row["job_id"],
                target=row["target"],
                state=row["state"],
                message_id=row["message_id"],
                started_at=_parse(row["started_at"]),
                sent_at=_parse(row["sent_at"]) if row["sent_at"] else None,
            )
            for row in rows
        ]


class UploadRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, job_id: str, key: str, size: int) -> None:
        await self._db.conn.execute(
            "INSERT OR REPLACE INTO uploads (job_id, key, size, uploaded_at) VALUES (?, ?, ?, ?)",
            (job_id, key, size, _iso(now())),
        )

    async def done(self, job_id: str) -> dict[str, int]:
        async with self._db.conn.execute(
            "SELECT key, size FROM uploads WHERE job_id = ?", (job_id,)
        ) as cur:
            return {row["key"]: row["size"] for row in await cur.fetchall()}
