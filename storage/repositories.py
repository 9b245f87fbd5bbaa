"""Repositories: the only place with SQL. They speak in plain records, not rows."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from .db import Database
from .errors import DuplicateJob


def now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass(slots=True)
class JobRecord:
    id: str
    state: str
    language: str
    style: str
    work_dir: str
    origin: str = "cli"
    owner_id: str | None = None
    chat_id: str | None = None
    idempotency_key: str | None = None
    topic: str = ""
    voice: str | None = None
    script: dict[str, Any] | None = None
    selection: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass(slots=True)
class StageRunRecord:
    id: int
    job_id: str
    stage: str
    provider: str | None
    attempts: int
    started_at: datetime
    duration_ms: int | None
    outcome: str
    error: str | None


def _loads(value: str | None) -> dict[str, Any] | None:
    return json.loads(value) if value else None


def _dumps(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value is not None else None


def _job(row: aiosqlite.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        state=row["state"],
        language=row["language"],
        style=row["style"],
        work_dir=row["work_dir"],
        origin=row["origin"],
        owner_id=row["owner_id"],
        chat_id=row["chat_id"],
        idempotency_key=row["idempotency_key"],
        topic=row["topic"],
        voice=row["voice"],
        script=_loads(row["script_json"]),
        selection=_loads(row["selection_json"]),
        result=_loads(row["result_json"]),
        error=row["error"],
        created_at=_parse(row["created_at"]),
        updated_at=_parse(row["updated_at"]),
    )


class JobRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex[:16]

    async def create(self, job: JobRecord) -> JobRecord:
        """Insert ``job``. If its idempotency key is taken, raise DuplicateJob with the job that
        holds it, so the same trigger never makes a second job."""
        try:
            await self._db.conn.execute(
                """INSERT INTO jobs (id, origin, owner_id, chat_id, idempotency_key, topic, state,
                   language, voice, style, script_json, selection_json, work_dir, result_json,
                   error, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    job.id,
                    job.origin,
                    job.owner_id,
                    job.chat_id,
                    job.idempotency_key,
                    job.topic,
                    job.state,
                    job.language,
                    job.voice,
                    job.style,
                    _dumps(job.script),
                    _dumps(job.selection),
                    job.work_dir,
                    _dumps(job.result),
                    job.error,
                    _iso(job.created_at),
                    _iso(job.updated_at),
                ),
            )
        except sqlite3.IntegrityError:
            if job.idempotency_key is None:
                raise
            existing = await self.by_key(job.idempotency_key)
            if existing is None:
                raise
            raise DuplicateJob(existing) from None
        return job

    async def get(self, job_id: str) -> JobRecord | None:
        row = await self._db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def by_key(self, key: str) -> JobRecord | None:
        row = await self._db.fetchone("SELECT * FROM jobs WHERE idempotency_key = ?", (key,))
        return _job(row) if row else None

    async def set_state(
        self, job_id: str, state: str, *, error: str | None = None, expect: str | None = None
    ) -> bool:
        """Move a job to ``state``. With ``expect``, only from that state (compare-and-set)."""
        sql = "UPDATE jobs SET state = ?, error = ?, updated_at = ? WHERE id = ?"
        args: tuple[Any, ...] = (state, error, _iso(now()), job_id)
        if expect is not None:
            sql += " AND state = ?"
            args += (expect,)
        cursor = await self._db.write(sql, args)
        return cursor.rowcount == 1

    async def update(self, job_id: str, **fields: Any) -> None:
        columns = {
            "script": "script_json",
            "selection": "selection_json",
            "result": "result_json",
            "topic": "topic",
            "language": "language",
            "voice": "voice",
            "style": "style",
            "error": "error",
            "state": "state",
        }
        sets, args = [], []
        for name, value in fields.items():
            column = columns[name]
            sets.append(f"{column} = ?")
            args.append(_dumps(value) if column.endswith("_json") else value)
        sets.append("updated_at = ?")
        args.append(_iso(now()))
        await self._db.write(
            f"UPDATE jobs SET {', '.join(sets)} WHERE id = ?",  # noqa: S608 - fixed column names
            (*args, job_id),
        )

    async def in_states(self, *states: str) -> list[JobRecord]:
        marks = ",".join("?" * len(states))
        async with self._db.conn.execute(
            f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created_at",  # noqa: S608
            states,
        ) as cur:
            return [_job(row) for row in await cur.fetchall()]

    async def recent(self, limit: int = 20) -> list[JobRecord]:
        async with self._db.conn.execute(
            "SELECT * FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,)
        ) as cur:
            return [_job(row) for row in await cur.fetchall()]

    async def count_since(self, owner_id: str, since: datetime, *, states: tuple[str, ...]) -> int:
        marks = ",".join("?" * len(states))
        async with self._db.conn.execute(
            f"SELECT COUNT(*) FROM jobs WHERE owner_id = ? AND created_at >= ? "  # noqa: S608
            f"AND state IN ({marks})",
            (owner_id, _iso(since), *states),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0


def _run(row: aiosqlite.Row) -> StageRunRecord:
    return StageRunRecord(
        id=row["id"],
        job_id=row["job_id"],
        stage=row["stage"],
        provider=row["provider"],
        attempts=row["attempts"],
        started_at=_parse(row["started_at"]),
        duration_ms=row["duration_ms"],
        outcome=row["outcome"],
        error=row["error"],
    )


class StageRunRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def start(self, job_id: str, stage: str, started_at: datetime) -> int:
        cursor = await self._db.write(
            "INSERT INTO stage_runs (job_id, stage, started_at, outcome) "
            "VALUES (?, ?, ?, 'running')",
            (job_id, stage, _iso(started_at)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def finish(
        self,
        run_id: int,
        *,
        outcome: str,
        duration_ms: int,
        provider: str | None,
        attempts: int,
        error: str | None = None,
    ) -> None:
        await self._db.write(
            """UPDATE stage_runs SET outcome = ?, duration_ms = ?, provider = ?, attempts = ?,
               error = ? WHERE id = ?""",
            (outcome, duration_ms, provider, attempts, error, run_id),
        )

    async def for_job(self, job_id: str) -> list[StageRunRecord]:
        async with self._db.conn.execute(
            "SELECT * FROM stage_runs WHERE job_id = ? ORDER BY id", (job_id,)
        ) as cur:
            return [_run(row) for row in await cur.fetchall()]

    async def finished_stages(self, job_id: str) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT stage FROM stage_runs WHERE job_id = ? AND outcome = 'ok'", (job_id,)
        )
        return {row[0] for row in rows}

    async def since(self, moment: datetime, until: datetime | None = None) -> list[StageRunRecord]:
        """Stage runs started from ``moment`` on (and before ``until``, when given)."""
        sql, args = "SELECT * FROM stage_runs WHERE started_at >= ?", [_iso(moment)]
        if until is not None:
            sql += " AND started_at < ?"
            args.append(_iso(until))
        return [_run(row) for row in await self._db.fetchall(sql + " ORDER BY id", args)]
