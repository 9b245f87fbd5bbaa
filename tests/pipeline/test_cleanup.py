"""Cleanup by age: finished jobs' folders go, failed ones stay longer, active ones are kept."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.cleanup import cleanup, try_lock
from pipeline.settings import Settings
from storage import Database, JobRecord, JobRepository
from storage.jobs_queries import JobQueries

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def tuned(settings: Settings) -> Settings:
    return settings.model_copy(update={"keep_finished_hours": 24.0, "keep_failed_hours": 72.0})


async def job(db: Database, settings: Settings, name: str, state: str, hours_ago: float) -> Path:
    work = settings.work_dir / name
    (work / "images").mkdir(parents=True)
    (work / "reel.mp4").write_bytes(b"r" * 1000)
    (work / "images" / "0-0.jpg").write_bytes(b"i" * 24)
    await JobRepository(db).create(
        JobRecord(id=name, state=state, language="en", style="s", work_dir=str(work.resolve()))
    )
    moment = NOW - timedelta(hours=hours_ago)
    await JobQueries(db).set_times(name, created_at=moment, updated_at=moment)
    return work


async def test_folders_go_by_state_and_age(tuned: Settings, db: Database) -> None:
    old_delivered = await job(db, tuned, "delivered-old", "delivered", 30)
    new_delivered = await job(db, tuned, "delivered-new", "delivered", 2)
    old_cancelled = await job(db, tuned, "cancelled-old", "cancelled", 25)
    failed_recent = await job(db, tuned, "failed-recent", "failed", 30)
    failed_old = await job(db, tuned, "failed-old", "failed", 80)
    active = [
        await job(db, tuned, f"{state}-old", state, 500)
        for state in ("producing", "queued", "script_review", "images_review", "drafting")
    ]

    dry = await cleanup(tuned, db, now=NOW, dry_run=True)
    assert dry.folders == 3 and old_delivered.is_dir()

    report = await cleanup(tuned, db, now=NOW)
    assert sorted(p.name for p in report.removed) == [
        "cancelled-old",
        "delivered-old",
        "failed-old",
    ]
    assert report.folders == 3 and report.bytes == 3 * 1024
    for gone in (old_delivered, old_cancelled, failed_old):
        assert not gone.exists()
    for kept in (new_delivered, failed_recent, *active):
        assert (kept / "reel.mp4").is_file()
    # Rows stay: the history, and the idempotency keys.
    assert await JobRepository(db).get("delivered-old") is not None
    assert (await cleanup(tuned, db, now=NOW)).folders == 0


async def test_a_held_folder_and_one_outside_the_work_dir_are_left(
    tuned: Settings, db: Database, tmp_path: Path
) -> None:
    held = await job(db, tuned, "held", "delivered", 48)
    descriptor = try_lock(held)
    assert descriptor is not None
    try:
        assert (await cleanup(tuned, db, now=NOW)).folders == 0
    finally:
        os.close(descriptor)
    assert (await cleanup(tuned, db, now=NOW)).folders == 1

    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    await JobRepository(db).create(
        JobRecord(id="odd", state="delivered", language="en", style="s", work_dir=str(elsewhere))
    )
    await JobQueries(db).set_times("odd", updated_at=NOW - timedelta(days=9))
    assert (await cleanup(tuned, db, now=NOW)).folders == 0
    assert elsewhere.is_dir()


async def test_cache_entries_older_than_n_days_go_whole(tuned: Settings, db: Database) -> None:
    cache = tuned.cache_dir
    old_entry, new_entry = cache / "tts" / "aaa", cache / "tts" / "bbb"
    for entry in (old_entry, new_entry):
        entry.mkdir(parents=True)
        (entry / "voice.wav").write_bytes(b"w" * 100)
        (entry / "voiceover.json").write_text("{}")
    old_image, new_image = cache / "images" / "old.jpg", cache / "images" / "new.jpg"
    old_image.parent.mkdir()
    old_image.write_bytes(b"j" * 50)
    new_image.write_bytes(b"j" * 50)
    ancient = (NOW - timedelta(days=40)).timestamp()
    for path in (old_entry / "voice.wav", old_entry / "voiceover.json", old_entry, old_image):
        os.utime(path, (ancient, ancient))

    report = await cleanup(tuned, db, now=NOW, cache_days=30)
    assert sorted(report.removed) == sorted([old_entry, old_image])
    assert report.files == 2 and report.bytes == 102 + 50
    assert not old_entry.exists() and not old_image.exists()
    assert (new_entry / "voice.wav").is_file() and new_image.is_file()


async def test_a_review_left_alone_loses_its_segments_not_its_job(
    tuned: Settings, db: Database
) -> None:
    idle = await job(db, tuned, "idle-review", "images_review", 30)
    recent = await job(db, tuned, "recent-review", "images_review", 2)
    for work in (idle, recent):
        (work / "segments").mkdir()
        (work / "segments" / "abc.mp4").write_bytes(b"s" * 500)
    report = await cleanup(tuned, db, now=NOW)
    assert report.removed == [idle / "segments"] and report.bytes == 500
    assert not (idle / "segments").exists() and (idle / "reel.mp4").is_file()
    assert (recent / "segments" / "abc.mp4").is_file()
