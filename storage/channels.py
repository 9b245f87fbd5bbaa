"""A channel's posted reels, newest first: what its share page lists (``pipeline.share``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .db import Database
from .repositories import _loads, _parse


@dataclass(frozen=True, slots=True)
class ChannelReel:
    job_id: str
    topic: str
    language: str
    posted_at: datetime
    result: dict[str, Any]  # the job's published result (prefix, links, facts)
    script: dict[str, Any] | None


class ChannelReels:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def posted(self, destination: str, *, limit: int = 50) -> list[ChannelReel]:
        """The reels posted to ``destination`` by the daily runs, newest first; a job posted
        in several slots is listed once."""
        async with self._db.conn.execute(
            "SELECT j.id, COALESCE(d.topic, j.topic) AS topic, d.language, "
            "MAX(d.posted_at) AS posted_at, j.result_json, j.script_json "
            "FROM daily_posts d JOIN jobs j ON j.id = d.job_id "
            "WHERE d.destination = ? AND d.state = 'posted' AND d.posted_at IS NOT NULL "
            "AND j.result_json IS NOT NULL "
            "GROUP BY j.id ORDER BY posted_at DESC, j.id LIMIT ?",
            (destination, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [
            ChannelReel(
                job_id=row["id"],
                topic=row["topic"] or "",
                language=row["language"],
                posted_at=_parse(row["posted_at"]),
                result=_loads(row["result_json"]) or {},
                script=_loads(row["script_json"]),
            )
            for row in rows
        ]


__all__ = ["ChannelReel", "ChannelReels"]
