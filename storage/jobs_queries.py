"""Queries for durable jobs: delivery targets, the upload ledger's corrections, stage runs left
behind by a killed process, and the ages cleanup goes by."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .db import Database
from .repositories import JobRecord, _iso, _job


class JobQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- where a job is delivered

    async def set_deliver_to(self, job_id: str, target: Mapping[str, Any]) -> None:
        await self._db.conn.execute(
            "UPDATE jobs SET deliver_to_json = ? WHERE id = ?",
            (json.dumps(dict(target), ensure_ascii=False), job_id),
        )

    async def deliver_to(self, job_id: str) -> dict[str, Any] | None:
        row = await self._db.fetchone("SELECT deliver_to_json FROM jobs WHERE id = ?", (job_id,))
        if row is None or row[0] is None:
            return None
        value = json.loads(row[0])
        return value if isinstance(value, dict) else None

    async def latest_of(self, owner_id: str, states: Iterable[str]) -> JobRecord | None:
        """The owner's most recent job in one of ``states``."""
        wanted = list(states)
        marks = ", ".join("?" for _ in wanted)
        async with self._db.conn.execute(
            f"SELECT * FROM jobs WHERE owner_id = ? AND state IN ({marks}) "
            "ORDER BY created_at DESC LIMIT 1",
            (owner_id, *wanted),
        ) as cur:
            row = await cur.fetchone()
        return _job(row) if row is not None else None

    # --- uploads

    async def forget_uploads(self, job_id: str, keys: Iterable[str]) -> None:
        """Drop ledger rows whose objects no longer match the job's files (the stage that made
        them runs again, or the asset is gone), so they are uploaded again or pruned."""
        await self._db.conn.executemany(
            "DELETE FROM uploads WHERE job_id = ? AND key = ?", [(job_id, key) for key in keys]
        )

    # --- stage runs

    async def interrupt_running(self, job_id: str) -> int:
        """Mark the job's stage runs still ``running`` as ``interrupted``. Only call this while
        holding the job: then those rows belong to a process that died."""
        cursor = await self._db.conn.execute(
            "UPDATE stage_runs SET outcome = 'interrupted', error = 'the process stopped' "
            "WHERE job_id = ? AND outcome = 'running'",
            (job_id,),
        )
        return cursor.rowcount

    async def move_run_start(self, run_id: int, started_at: datetime) -> None:
        """A stage run that waited (the render queue) starts when its work did."""
        await self._db.conn.execute(
            "UPDATE stage_runs SET started_at = ? WHERE id = ?", (_iso(started_at), run_id)
        )

    # --- ages

    async def finished_before(self, cutoffs: Mapping[str, datetime]) -> list[JobRecord]:
        """Jobs in each given state whose last change is older than that state's cutoff."""
        found: list[JobRecord] = []
        for state, cutoff in cutoffs.items():
            async with self._db.conn.execute(
                "SELECT * FROM jobs WHERE state = ? AND updated_at < ? ORDER BY updated_at",
                (state, _iso(cutoff)),
            ) as cur:
                found += [_job(row) for row in await cur.fetchall()]
        return found

    async def set_times(
        self, job_id: str, *, created_at: datetime | None = None, updated_at: datetime | None = None
    ) -> None:
        """Backdate a job (tests, imports): the state machine only ever moves time forward."""
        if created_at is not None:
            await self._db.conn.execute(
                "UPDATE jobs SET created_at = ? WHERE id = ?", (_iso(created_at), job_id)
            )
        if updated_at is not None:
            await self._db.conn.execute(
                "UPDATE jobs SET updated_at = ? WHERE id = ?", (_iso(updated_at), job_id)
            )
