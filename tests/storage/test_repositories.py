from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Database, DuplicateJob, JobRecord, JobRepository, StageRunRepository


def job(**kw: object) -> JobRecord:
    base: dict[str, object] = dict(
        id=JobRepository.new_id(), state="queued", language="en", style="bold-yellow", work_dir="w"
    )
    base.update(kw)
    return JobRecord(**base)  # type: ignore[arg-type]


async def test_migrations_are_applied_once_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    first = await Database.open(path)
    async with first.conn.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
    version = await first.migrate()
    await first.close()
    again = await Database.open(path)
    assert await again.migrate() == version >= 1
    await again.close()


async def test_job_round_trip(db: Database) -> None:
    jobs = JobRepository(db)
    record = job(script={"title": "ж", "scenes": []}, owner_id="42", topic="octopus")
    await jobs.create(record)
    loaded = await jobs.get(record.id)
    assert loaded is not None
    assert loaded.script == {"title": "ж", "scenes": []}
    assert loaded.created_at.tzinfo is not None
    await jobs.update(record.id, selection={"scenes": [1, 0]}, style="boxed")
    loaded = await jobs.get(record.id)
    assert loaded is not None and loaded.selection == {"scenes": [1, 0]} and loaded.style == "boxed"


async def test_state_compare_and_set(db: Database) -> None:
    jobs = JobRepository(db)
    record = await jobs.create(job())
    assert await jobs.set_state(record.id, "producing", expect="queued")
    assert not await jobs.set_state(record.id, "cancelled", expect="queued")
    assert [j.id for j in await jobs.in_states("producing")] == [record.id]


async def test_idempotency_key_makes_one_job(db: Database) -> None:
    jobs = JobRepository(db)
    first = await jobs.create(job(idempotency_key="tg:1:100"))
    with pytest.raises(DuplicateJob) as dup:
        await jobs.create(job(idempotency_key="tg:1:100"))
    assert dup.value.job.id == first.id
    assert len(await jobs.recent()) == 1


async def test_count_since(db: Database) -> None:
    jobs = JobRepository(db)
    await jobs.create(job(owner_id="7", state="delivered"))
    await jobs.create(job(owner_id="7", state="cancelled"))
    await jobs.create(job(owner_id="8", state="delivered"))
    since = datetime.now(UTC) - timedelta(hours=1)
    assert await jobs.count_since("7", since, states=("delivered", "producing")) == 1


async def test_stage_runs(db: Database) -> None:
    jobs, runs = JobRepository(db), StageRunRepository(db)
    record = await jobs.create(job())
    started = datetime.now(UTC)
    voice = await runs.start(record.id, "voice", started)
    images = await runs.start(record.id, "images", started)
    await runs.finish(voice, outcome="ok", duration_ms=1200, provider="espeak", attempts=1)
    await runs.finish(
        images, outcome="failed", duration_ms=10, provider=None, attempts=3, error="x"
    )
    assert await runs.finished_stages(record.id) == {"voice"}
    listed = await runs.for_job(record.id)
    assert [(r.stage, r.provider, r.attempts, r.outcome) for r in listed] == [
        ("voice", "espeak", 1, "ok"),
        ("images", None, 3, "failed"),
    ]
    assert len(await runs.since(started - timedelta(seconds=1))) == 2


async def test_delivery_is_claimed_once(db: Database) -> None:
    from storage import DeliveryRepository

    jobs, deliveries = JobRepository(db), DeliveryRepository(db)
    record = await jobs.create(job())
    assert await deliveries.claim(record.id, "telegram:1")
    assert not await deliveries.claim(record.id, "telegram:1")
    assert await deliveries.claim(record.id, "discord:9")
    await deliveries.confirm(record.id, "telegram:1", "555")
    await deliveries.release(record.id, "discord:9")
    rows = await deliveries.for_job(record.id)
    assert [(r.target, r.state, r.message_id) for r in rows] == [("telegram:1", "sent", "555")]
    assert rows[0].sent_at is not None


async def test_uploads_are_remembered(db: Database) -> None:
    from storage import UploadRepository

    jobs, uploads = JobRepository(db), UploadRepository(db)
    record = await jobs.create(job())
    await uploads.record(record.id, "reels/x/reel.mp4", 10)
    await uploads.record(record.id, "reels/x/reel.mp4", 12)
    assert await uploads.done(record.id) == {"reels/x/reel.mp4": 12}
