"""Users' settings and what they used: the records behind preferences, rate limits and quotas."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from datetime import datetime

from .db import Database
from .repositories import _iso, _parse, now

logger = logging.getLogger(__name__)

SETTINGS = ("ui_language", "language", "voice", "style", "music")
_MEMO = "user"


@dataclass(slots=True)
class UserRecord:
    """A user's stored choices; ``None`` means "not chosen", so defaults can change later."""

    user_id: str
    ui_language: str | None = None
    language: str | None = None
    voice: str | None = None
    style: str | None = None
    music: bool | None = None  # a music bed under the reels


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: str) -> UserRecord | None:
        """The user's choices; read on every update, so kept in the database's memo (this
        repository's ``update`` is the only writer)."""
        known, cached = self._db.memo.get(_MEMO, user_id)
        if known:
            return replace(cached) if cached is not None else None
        read_at = self._db.memo.epoch
        row = await self._db.fetchone(
            "SELECT user_id, ui_language, language, voice, style, music FROM users "
            "WHERE user_id = ?",
            (user_id,),
        )
        record = None
        if row is not None:
            record = UserRecord(**{f.name: row[f.name] for f in fields(UserRecord)})
            if record.music is not None:
                record.music = bool(record.music)  # SQLite keeps it as 0/1
        self._db.memo.put(_MEMO, user_id, record, read_at=read_at)
        return replace(record) if record is not None else None

    async def update(self, user_id: str, **choices: str | bool | None) -> UserRecord:
        """Set some of a user's choices (``None`` clears one); creates the user if needed."""
        unknown = set(choices) - set(SETTINGS)
        if unknown:
            raise ValueError(f"unknown user settings: {sorted(unknown)}")
        # One statement: the connection is shared by every task, so no multi-statement
        # transaction that another task's statements could land in.
        names = list(choices)
        columns = ", ".join(["user_id", *names, "updated_at"])
        marks = ", ".join("?" * (len(names) + 2))
        updates = ", ".join(f"{name} = excluded.{name}" for name in [*names, "updated_at"])
        self._db.memo.drop(_MEMO, user_id)
        try:
            await self._db.write(
                f"INSERT INTO users ({columns}) VALUES ({marks}) "  # noqa: S608 - known names
                f"ON CONFLICT (user_id) DO UPDATE SET {updates}",
                (user_id, *choices.values(), _iso(now())),
            )
        finally:
            self._db.memo.drop(_MEMO, user_id)
        record = await self.get(user_id)
        assert record is not None
        return record


class UsageRepository:
    """Events counted by the limits: one row per draft or render a user started."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, owner_id: str, kind: str, at: datetime, job_id: str | None = None) -> int:
        cursor = await self._db.conn.execute(
            "INSERT INTO usage_events (owner_id, kind, job_id, at) VALUES (?, ?, ?, ?)",
            (owner_id, kind, job_id, _iso(at)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def remove(self, event_id: int) -> None:
        await self._db.conn.execute("DELETE FROM usage_events WHERE id = ?", (event_id,))

    async def since(self, owner_id: str, kind: str, since: datetime) -> list[datetime]:
        """When ``owner_id`` did ``kind`` from ``since`` on, oldest first."""
        rows = await self._db.fetchall(
            "SELECT at FROM usage_events WHERE owner_id = ? AND kind = ? AND at >= ? ORDER BY at",
            (owner_id, kind, _iso(since)),
        )
        return [_parse(row["at"]) for row in rows]

    async def job_states_since(
        self, since: datetime, until: datetime | None = None
    ) -> dict[str, int]:
        """How many jobs created from ``since`` on (and before ``until``, when given) are in
        each state (for admins' stats and the daily summary)."""
        sql, args = "SELECT state, COUNT(*) AS n FROM jobs WHERE created_at >= ?", [_iso(since)]
        if until is not None:
            sql += " AND created_at < ?"
            args.append(_iso(until))
        rows = await self._db.fetchall(sql + " GROUP BY state", args)
        return {row["state"]: int(row["n"]) for row in rows}
