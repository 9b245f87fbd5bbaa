"""Daily reels: claims per (date, destination, slot), so each is made and posted exactly once.

A run claims a slot before any work (``INSERT … ON CONFLICT DO NOTHING``), attaches the one job
that makes it (compare-and-set, so two racing runs agree on one job), and marks it made, posted
or failed. A failed slot is taken again by the next run; a posted one never is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from .db import Database
from .repositories import _iso, _parse, now

STATES = ("claimed", "made", "posted", "failed")


@dataclass(frozen=True, slots=True)
class DailyKey:
    run_date: date
    destination: str  # "telegram:<chat>" | "discord:<channel>", without the language
    slot: int

    @property
    def idempotency_key(self) -> str:
        """The key of the job that makes this slot: a second run finds that job, not a copy."""
        return f"daily:{self.run_date.isoformat()}:{self.destination}:{self.slot}"

    def args(self) -> tuple[str, str, int]:
        return (self.run_date.isoformat(), self.destination, self.slot)


@dataclass(slots=True)
class DailyPost:
    key: DailyKey
    language: str
    state: str
    job_id: str | None
    topic: str | None
    source: str | None
    message_id: str | None
    error: str | None
    attempts: int
    claimed_at: datetime
    updated_at: datetime
    posted_at: datetime | None

    @property
    def done(self) -> bool:
        return self.state == "posted"


def _post(row: aiosqlite.Row) -> DailyPost:
    return DailyPost(
        key=DailyKey(date.fromisoformat(row["run_date"]), row["destination"], row["slot"]),
        language=row["language"],
        state=row["state"],
        job_id=row["job_id"],
        topic=row["topic"],
        source=row["source"],
        message_id=row["message_id"],
        error=row["error"],
        attempts=row["attempts"],
        claimed_at=_parse(row["claimed_at"]),
        updated_at=_parse(row["updated_at"]),
        posted_at=_parse(row["posted_at"]) if row["posted_at"] else None,
    )


_WHERE_KEY = "run_date = ? AND destination = ? AND slot = ?"


class DailyPostRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _update(self, sets: str, key: DailyKey, args: tuple[Any, ...], only: str) -> bool:
        cursor = await self._db.conn.execute(
            f"UPDATE daily_posts SET {sets}, updated_at = ? WHERE {_WHERE_KEY} AND {only}",  # noqa: S608
            (*args, _iso(now()), *key.args()),
        )
        return cursor.rowcount == 1

    async def claim(
        self, key: DailyKey, *, language: str, at: datetime | None = None
    ) -> tuple[DailyPost, bool]:
        """The slot's row and whether this call took it: True when it was new, or failed
        before and is now retried (``attempts`` counts the tries). A row left ``claimed`` or
        ``made`` by a run that stopped is returned as is: resume its job, don't start another."""
        moment = _iso(at or now())
        cursor = await self._db.conn.execute(
            "INSERT INTO daily_posts (run_date, destination, slot, language, state, claimed_at, "
            "updated_at) VALUES (?, ?, ?, ?, 'claimed', ?, ?) ON CONFLICT DO NOTHING",
            (*key.args(), language, moment, moment),
        )
        taken = cursor.rowcount == 1
        if not taken:
            taken = await self._update(
                "state = 'claimed', error = NULL, attempts = attempts + 1",
                key,
                (),
                "state = 'failed'",
            )
        post = await self.get(key)
        assert post is not None
        return post, taken

    async def attach_job(
        self, key: DailyKey, job_id: str, *, topic: str, source: str | None = None
    ) -> str:
        """Give the slot its job unless it has one; the job id the slot holds afterwards (the
        other run's, when one was faster)."""
        await self._update(
            "job_id = ?, topic = ?, source = ?", key, (job_id, topic, source), "job_id IS NULL"
        )
        post = await self.get(key)
        if post is None:
            raise LookupError(f"no daily claim for {key}")
        assert post.job_id is not None
        return post.job_id

    async def mark_made(self, key: DailyKey) -> bool:
        """The reel exists; posting is next."""
        return await self._update("state = 'made'", key, (), "state IN ('claimed', 'failed')")

    async def mark_posted(
        self, key: DailyKey, *, message_id: str | None = None, at: datetime | None = None
    ) -> bool:
        """True the first time only: a second call is a post that must not be repeated."""
        return await self._update(
            "state = 'posted', message_id = ?, error = NULL, posted_at = ?",
            key,
            (message_id, _iso(at or now())),
            "state != 'posted'",
        )

    async def mark_failed(self, key: DailyKey, error: str) -> bool:
        """The slot failed this run (the next run takes it again); never undoes a post."""
        return await self._update(
            "state = 'failed', error = ?", key, (error[:1000],), "state != 'posted'"
        )

    async def get(self, key: DailyKey) -> DailyPost | None:
        async with self._db.conn.execute(
            f"SELECT * FROM daily_posts WHERE {_WHERE_KEY}",  # noqa: S608
            key.args(),
        ) as cur:
            row = await cur.fetchone()
        return _post(row) if row else None

    async def by_job(self, job_id: str) -> list[DailyPost]:
        async with self._db.conn.execute(
            "SELECT * FROM daily_posts WHERE job_id = ? ORDER BY destination, slot", (job_id,)
        ) as cur:
            return [_post(row) for row in await cur.fetchall()]

    async def for_date(self, run_date: date) -> list[DailyPost]:
        async with self._db.conn.execute(
            "SELECT * FROM daily_posts WHERE run_date = ? ORDER BY destination, slot",
            (run_date.isoformat(),),
        ) as cur:
            return [_post(row) for row in await cur.fetchall()]

    async def lacking(self, run_date: date, wanted: Iterable[tuple[str, int]]) -> list[DailyKey]:
        """Of the (destination, slot) pairs ``run_date`` should have, those not posted yet,
        in the order given."""
        posted = {
            (post.key.destination, post.key.slot)
            for post in await self.for_date(run_date)
            if post.done
        }
        return [
            DailyKey(run_date, destination, slot)
            for destination, slot in wanted
            if (destination, slot) not in posted
        ]

    async def recent_topics(
        self, since: date, until: date, *, language: str | None = None
    ) -> list[str]:
        """Topics of the slots from ``since`` to ``until`` (both included), in any state: a
        topic being made today is as taken as one posted last week."""
        sql = (
            "SELECT DISTINCT topic FROM daily_posts "
            "WHERE run_date BETWEEN ? AND ? AND topic IS NOT NULL"
        )
        args: tuple[Any, ...] = (since.isoformat(), until.isoformat())
        if language is not None:
            sql += " AND language = ?"
            args += (language,)
        async with self._db.conn.execute(sql + " ORDER BY topic", args) as cur:
            return [row[0] for row in await cur.fetchall()]
