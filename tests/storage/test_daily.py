"""Daily claims: exactly once per (date, destination, slot), through restarts and races."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from storage import (
    DailyKey,
    DailyPostRepository,
    Database,
    JobRecord,
    JobRepository,
)

DAY = date(2026, 8, 17)
TG = "telegram:-1001234567890"
DC = "discord:112233445566778899"


async def make_job(db: Database) -> str:
    job = JobRecord(
        id=JobRepository.new_id(), state="drafting", language="en", style="s", work_dir="w"
    )
    await JobRepository(db).create(job)
    return job.id


async def test_a_slot_is_claimed_once(db: Database) -> None:
    daily = DailyPostRepository(db)
    key = DailyKey(DAY, TG, 0)
    post, taken = await daily.claim(key, language="en")
    assert taken and post.state == "claimed" and post.attempts == 1 and post.job_id is None
    again, taken_again = await daily.claim(key, language="en")
    assert not taken_again and again.state == "claimed"
    assert key.idempotency_key == f"daily:2026-08-17:{TG}:0"


async def test_concurrent_claims_agree_on_one_winner_and_one_job(db: Database) -> None:
    daily = DailyPostRepository(db)
    key = DailyKey(DAY, TG, 0)
    results = await asyncio.gather(*(daily.claim(key, language="en") for _ in range(5)))
    assert sum(taken for _, taken in results) == 1
    first, second = await make_job(db), await make_job(db)
    held = await asyncio.gather(
        daily.attach_job(key, first, topic="Comet Atlas", source="wikipedia"),
        daily.attach_job(key, second, topic="Perseids", source="wikipedia"),
    )
    assert held == [first, first]
    post = await daily.get(key)
    assert post is not None and post.topic == "Comet Atlas" and post.source == "wikipedia"
    assert [p.key for p in await daily.by_job(first)] == [key]


async def test_posted_is_final_and_failed_is_retried(db: Database) -> None:
    daily = DailyPostRepository(db)
    tg, dc = DailyKey(DAY, TG, 0), DailyKey(DAY, DC, 0)
    for key in (tg, dc):
        await daily.claim(key, language="en")
    assert await daily.mark_made(tg)
    assert await daily.mark_posted(tg, message_id="77")
    assert not await daily.mark_posted(tg, message_id="78")  # the second post is refused
    assert not await daily.mark_failed(tg, "late error")  # a post is never undone
    assert await daily.mark_failed(dc, "Forbidden: bot is not a member of the channel")

    post, taken = await daily.claim(tg, language="en")
    assert not taken and post.state == "posted" and post.message_id == "77"
    assert post.posted_at is not None
    post, taken = await daily.claim(dc, language="en")
    assert taken and post.state == "claimed" and post.attempts == 2 and post.error is None


async def test_what_a_date_still_lacks(db: Database) -> None:
    daily = DailyPostRepository(db)
    wanted = [(TG, 0), (TG, 1), (DC, 0)]
    assert [k.destination for k in await daily.lacking(DAY, wanted)] == [TG, TG, DC]
    await daily.claim(DailyKey(DAY, TG, 1), language="en")
    await daily.mark_posted(DailyKey(DAY, TG, 1))
    await daily.claim(DailyKey(DAY, DC, 0), language="es")  # claimed, not posted: still lacking
    lacking = await daily.lacking(DAY, wanted)
    assert [(k.destination, k.slot) for k in lacking] == [(TG, 0), (DC, 0)]
    assert await daily.lacking(date(2026, 8, 18), [(TG, 0)]) == [DailyKey(date(2026, 8, 18), TG, 0)]


async def test_recent_topics_span_the_window_and_the_language(db: Database) -> None:
    daily = DailyPostRepository(db)
    rows = [
        (date(2026, 8, 2), TG, "en", "Too old"),
        (date(2026, 8, 3), TG, "en", "Comet Atlas"),
        (date(2026, 8, 10), DC, "es", "Eclipse solar"),
        (DAY, TG, "en", "Perseids"),
        (date(2026, 8, 18), TG, "en", "Tomorrow"),
    ]
    for day, destination, language, topic in rows:
        key = DailyKey(day, destination, 0)
        await daily.claim(key, language=language)
        await daily.attach_job(key, await make_job(db), topic=topic)
    since = date(2026, 8, 3)
    assert await daily.recent_topics(since, DAY) == ["Comet Atlas", "Eclipse solar", "Perseids"]
    assert await daily.recent_topics(since, DAY, language="en") == ["Comet Atlas", "Perseids"]


async def test_claims_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    key = DailyKey(DAY, TG, 0)
    first = await Database.open(path)
    try:
        await DailyPostRepository(first).claim(key, language="en")
        job = await make_job(first)
        await DailyPostRepository(first).attach_job(key, job, topic="Octopus")
    finally:
        await first.close()
    again = await Database.open(path)
    try:
        post, taken = await DailyPostRepository(again).claim(key, language="en")
    finally:
        await again.close()
    assert not taken and post.job_id == job and post.topic == "Octopus"


async def test_attaching_to_an_unclaimed_slot_is_an_error(db: Database) -> None:
    with pytest.raises(LookupError):
        await DailyPostRepository(db).attach_job(DailyKey(DAY, TG, 0), "x", topic="t")
