"""Users' linked platform accounts (YouTube) and the posts made there, at most one per
(job, platform, channel). Tokens arrive here already encrypted: storage never sees them clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from .db import Database
from .repositories import _iso, _parse, now


@dataclass(slots=True)
class Connection:
    platform: str
    owner_id: str
    token: bytes  # encrypted
    channel_id: str | None
    channel_title: str | None
    privacy: str
    connected_at: datetime

    def __repr__(self) -> str:  # the token stays out of logs even encrypted
        return f"Connection({self.platform}, {self.owner_id}, channel={self.channel_id})"


@dataclass(slots=True)
class PlatformPost:
    job_id: str
    platform: str
    channel: str
    owner_id: str
    state: str  # posting | posted
    session_uri: str | None
    video_id: str | None
    url: str | None
    privacy: str | None
    started_at: datetime
    posted_at: datetime | None

    @property
    def posted(self) -> bool:
        return self.state == "posted"


class ConnectionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(
        self,
        platform: str,
        owner_id: str,
        token: bytes,
        *,
        channel_id: str | None,
        channel_title: str | None,
    ) -> None:
        """Link (or re-link) ``owner_id``'s account; a re-link keeps their privacy choice."""
        await self._db.conn.execute(
            "INSERT INTO connections (platform, owner_id, token, channel_id, channel_title, "
            "connected_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, owner_id) DO UPDATE "
            "SET token = excluded.token, channel_id = excluded.channel_id, "
            "channel_title = excluded.channel_title, connected_at = excluded.connected_at",
            (platform, owner_id, token, channel_id, channel_title, _iso(now())),
        )

    async def get(self, platform: str, owner_id: str) -> Connection | None:
        async with self._db.conn.execute(
            "SELECT * FROM connections WHERE platform = ? AND owner_id = ?", (platform, owner_id)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return Connection(
            platform=row["platform"],
            owner_id=row["owner_id"],
            token=bytes(row["token"]),
            channel_id=row["channel_id"],
            channel_title=row["channel_title"],
            privacy=row["privacy"],
            connected_at=_parse(row["connected_at"]),
        )

    async def set_privacy(self, platform: str, owner_id: str, privacy: str) -> bool:
        cursor = await self._db.conn.execute(
            "UPDATE connections SET privacy = ? WHERE platform = ? AND owner_id = ?",
            (privacy, platform, owner_id),
        )
        return cursor.rowcount == 1

    async def delete(self, platform: str, owner_id: str) -> bool:
        cursor = await self._db.conn.execute(
            "DELETE FROM connections WHERE platform = ? AND owner_id = ?", (platform, owner_id)
        )
        return cursor.rowcount == 1


class PlatformPostRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, job_id: str, platform: str, channel: str, owner_id: str, privacy: str
    ) -> tuple[PlatformPost, bool]:
        """The post of ``job_id`` on ``channel``, and whether this call created its claim."""
        cursor = await self._db.conn.execute(
            "INSERT OR IGNORE INTO platform_posts (job_id, platform, channel, owner_id, state, "
            "privacy, started_at) VALUES (?, ?, ?, ?, 'posting', ?, ?)",
            (job_id, platform, channel, owner_id, privacy, _iso(now())),
        )
        post = await self.get(job_id, platform, channel)
        assert post is not None
        return post, cursor.rowcount == 1

    async def get(self, job_id: str, platform: str, channel: str) -> PlatformPost | None:
        async with self._db.conn.execute(
            "SELECT * FROM platform_posts WHERE job_id = ? AND platform = ? AND channel = ?",
            (job_id, platform, channel),
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else _post(row)

    async def for_job(self, job_id: str, platform: str) -> list[PlatformPost]:
        async with self._db.conn.execute(
            "SELECT * FROM platform_posts WHERE job_id = ? AND platform = ? ORDER BY started_at",
            (job_id, platform),
        ) as cur:
            return [_post(row) for row in await cur.fetchall()]

    async def set_session(self, job_id: str, platform: str, channel: str, uri: str) -> None:
        await self._db.conn.execute(
            "UPDATE platform_posts SET session_uri = ? "
            "WHERE job_id = ? AND platform = ? AND channel = ?",
            (uri, job_id, platform, channel),
        )

    async def posted(
        self, job_id: str, platform: str, channel: str, *, video_id: str, url: str
    ) -> None:
        await self._db.conn.execute(
            "UPDATE platform_posts SET state = 'posted', video_id = ?, url = ?, posted_at = ? "
            "WHERE job_id = ? AND platform = ? AND channel = ?",
            (video_id, url, _iso(now()), job_id, platform, channel),
        )

    async def release(self, job_id: str, platform: str, channel: str) -> None:
        """Drop an unfinished claim whose upload surely did not happen (refused at start)."""
        await self._db.conn.execute(
            "DELETE FROM platform_posts WHERE job_id = ? AND platform = ? AND channel = ? "
            "AND state = 'posting'",
            (job_id, platform, channel),
        )


def _post(row: aiosqlite.Row) -> PlatformPost:
    return PlatformPost(
        job_id=row["job_id"],
        platform=row["platform"],
        channel=row["channel"],
        owner_id=row["owner_id"],
        state=row["state"],
        session_uri=row["session_uri"],
        video_id=row["video_id"],
        url=row["url"],
        privacy=row["privacy"],
        started_at=_parse(row["started_at"]),
        posted_at=_parse(row["posted_at"]) if row["posted_at"] else None,
    )
