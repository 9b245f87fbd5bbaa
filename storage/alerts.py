"""Admin alerts: one row per cause (fingerprint), and a log of what was done about each.

Every decision is one compare-and-set statement, so two processes (``serve`` and a manual
``reelfactory daily``) reporting the same cause send one DM, not two:

- ``occurred`` counts an occurrence and says whether a DM is due: the first of an episode, or
  the first after ``repeat_after`` since the last DM (it then reports ``batch``, the occurrences
  since that DM). Otherwise the occurrence is muted and counted.
- ``resolve`` ends an episode once; a later occurrence starts a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import aiosqlite

from .db import Database
from .repositories import _iso, _parse

Decision = Literal["first", "repeat", "muted"]
ACTIONS = ("sent", "muted", "recovered", "undelivered")


@dataclass(slots=True)
class AlertRecord:
    fingerprint: str
    kind: str
    stage: str
    provider: str
    error_class: str
    state: str  # active | resolved
    first_seen: datetime
    last_seen: datetime
    last_sent: datetime | None
    occurrences: int  # in the current episode
    unsent: int  # since the last DM
    batch: int  # what the last DM reported
    last_job_id: str | None
    last_message: str | None
    resolved_at: datetime | None


def _alert(row: aiosqlite.Row) -> AlertRecord:
    def moment(name: str) -> datetime | None:
        return _parse(row[name]) if row[name] else None

    return AlertRecord(
        fingerprint=row["fingerprint"],
        kind=row["kind"],
        stage=row["stage"],
        provider=row["provider"],
        error_class=row["error_class"],
        state=row["state"],
        first_seen=_parse(row["first_seen"]),
        last_seen=_parse(row["last_seen"]),
        last_sent=moment("last_sent"),
        occurrences=row["occurrences"],
        unsent=row["unsent"],
        batch=row["batch"],
        last_job_id=row["last_job_id"],
        last_message=row["last_message"],
        resolved_at=moment("resolved_at"),
    )


class AlertRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _returning(self, sql: str, args: tuple[Any, ...]) -> list[AlertRecord]:
        async with self._db.conn.execute(sql, args) as cur:
            return [_alert(row) for row in await cur.fetchall()]

    async def occurred(
        self,
        fingerprint: str,
        *,
        kind: str,
        stage: str,
        provider: str,
        error_class: str,
        at: datetime,
        repeat_after: timedelta,
        job_id: str | None = None,
        message: str | None = None,
    ) -> tuple[Decision, AlertRecord]:
        moment = _iso(at)
        await self._db.conn.execute(
            "INSERT INTO alerts (fingerprint, kind, stage, provider, error_class, state, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, 'active', ?, ?) "
            "ON CONFLICT DO NOTHING",
            (fingerprint, kind, stage, provider, error_class, moment, moment),
        )
        # A resolved cause that comes back starts a new episode (a regression).
        await self._db.conn.execute(
            "UPDATE alerts SET state = 'active', first_seen = ?, occurrences = 0, unsent = 0, "
            "last_sent = NULL, resolved_at = NULL WHERE fingerprint = ? AND state = 'resolved'",
            (moment, fingerprint),
        )
        due = await self._returning(
            "UPDATE alerts SET last_sent = ?, batch = unsent + 1, unsent = 0, "
            "occurrences = occurrences + 1, last_seen = ?, last_job_id = ?, last_message = ? "
            "WHERE fingerprint = ? AND (last_sent IS NULL OR last_sent <= ?) RETURNING *",
            (moment, moment, job_id, message, fingerprint, _iso(at - repeat_after)),
        )
        if due:
            record = due[0]
            return ("first" if record.occurrences == 1 else "repeat"), record
        [record] = await self._returning(
            "UPDATE alerts SET unsent = unsent + 1, occurrences = occurrences + 1, "
            "last_seen = ?, last_job_id = ?, last_message = ? WHERE fingerprint = ? RETURNING *",
            (moment, job_id, message, fingerprint),
        )
        await self.log(fingerprint, "muted", at)
        return "muted", record

    async def undelivered(self, fingerprint: str, batch: int, at: datetime) -> None:
        """No admin got the DM: owe it again, with its occurrences, at the next occurrence."""
        await self._db.conn.execute(
            "UPDATE alerts SET last_sent = NULL, unsent = unsent + ? WHERE fingerprint = ?",
            (batch, fingerprint),
        )
        await self.log(fingerprint, "undelivered", at)

    async def resolve(
        self,
        at: datetime,
        *,
        fingerprint: str | None = None,
        kind: str | None = None,
        stage: str | None = None,
        provider: str | None = None,
    ) -> list[AlertRecord]:
        """End the active episodes that match (every given field must); each is returned once,
        by the call that ended it."""
        where, args = ["state = 'active'"], [_iso(at)]
        for column, value in (
            ("fingerprint", fingerprint),
            ("kind", kind),
            ("stage", stage),
            ("provider", provider),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if len(where) == 1:
            raise ValueError("resolve needs a fingerprint or a kind")
        return await self._returning(
            f"UPDATE alerts SET state = 'resolved', resolved_at = ? "  # noqa: S608
            f"WHERE {' AND '.join(where)} RETURNING *",
            tuple(args),
        )

    async def log(self, fingerprint: str, action: str, at: datetime) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown alert action {action!r}")
        await self._db.conn.execute(
            "INSERT INTO alert_events (fingerprint, action, at) VALUES (?, ?, ?)",
            (fingerprint, action, _iso(at)),
        )

    async def get(self, fingerprint: str) -> AlertRecord | None:
        found = await self._returning("SELECT * FROM alerts WHERE fingerprint = ?", (fingerprint,))
        return found[0] if found else None

    async def active(self) -> list[AlertRecord]:
        return await self._returning(
            "SELECT * FROM alerts WHERE state = 'active' ORDER BY first_seen", ()
        )

    async def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """What was done from ``start`` (included) to ``end`` (excluded), by action."""
        async with self._db.conn.execute(
            "SELECT action, COUNT(*) AS n FROM alert_events WHERE at >= ? AND at < ? "
            "GROUP BY action",
            (_iso(start), _iso(end)),
        ) as cur:
            found = {row["action"]: int(row["n"]) for row in await cur.fetchall()}
        return {action: found.get(action, 0) for action in ACTIONS}
