"""Resuming jobs, delivering at most once, and idempotency keys."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.cleanup import try_lock
from pipeline.delivery import Post, PostForm, Published, deliver
from pipeline.errors import DeliveryInterrupted, JobBusy, NotSent
from pipeline.models import JobState
from pipeline.resume import cli_key, message_key, resume_jobs, scheduled_key
from pipeline.settings import Settings
from pipeline.stages.script import parse_script
from storage import DeliveryRepository, DuplicateJob, JobRecord
from tests.pipeline.test_runner import SHORT_SCRIPT


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    opened = await App.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


class Deliverer:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []
        self.error = error

        self.posts: list[Post] = []

    async def __call__(self, post: Post) -> None:
        self.posts.append(post)
        self.calls.append((post.job.id, {"reel": str(post.published.reel)}))
        if self.error is not None:
            raise self.error


async def chat_job(app: App, state: JobState, origin: str = "telegram", **kw: str) -> JobRecord:
    return await app.new_job(
        parse_script(SHORT_SCRIPT), style="bold-yellow", origin=origin, state=state, **kw
    )


def test_keys() -> None:
    day = date(2026, 5, 1)
    assert scheduled_key(day, "Octopus  Facts") == scheduled_key(day, "octopus facts ")
    assert scheduled_key(day, "octopus") != scheduled_key(date(2026, 5, 2), "octopus")
    assert scheduled_key(datetime(2026, 5, 1, 9, tzinfo=UTC), "x") == scheduled_key(day, "x")
    assert scheduled_key(day, "x").startswith("scheduled:2026-05-01:")
    assert message_key("telegram", 42, 1001) == "telegram:42:1001"
    base = cli_key(b"# t\n\nhi", Path("out"), style="a", voice=None, language="en")
    assert base == cli_key(
        b"# t\n\nhi", Path("out").resolve(), style="a", voice=None, language="en"
    )
    assert base != cli_key(b"# t\n\nho", Path("out"), style="a", voice=None, language="en")
    assert base != cli_key(b"# t\n\nhi", Path("out2"), style="a", voice=None, language="en")
    assert base != cli_key(b"# t\n\nhi", Path("out"), style="b", voice=None, language="en")


async def test_the_same_key_makes_one_job(app: App) -> None:
    first = await chat_job(app, JobState.SCRIPT_REVIEW, idempotency_key="telegram:42:7")
    with pytest.raises(DuplicateJob) as duplicate:
        await chat_job(app, JobState.SCRIPT_REVIEW, idempotency_key="telegram:42:7")
    assert duplicate.value.job.id == first.id
    assert [job.id for job in await app.jobs.recent()] == [first.id]


async def test_delivery_is_at_most_once(app: App) -> None:
    deliveries = DeliveryRepository(app.db)
    job = await chat_job(app, JobState.PRODUCING, chat_id="42")
    production = Published.of(job.id, Path(job.work_dir), {"reel_url": "file:///reel.mp4"})
    post = Deliverer()
    await deliver(app, job, production, post)
    await deliver(app, job, production, post)
    assert post.calls == [(job.id, {"reel": str(Path(job.work_dir) / "reel.mp4")})]
    assert [(d.target, d.state) for d in await deliveries.for_job(job.id)] == [
        ("telegram:42", "sent")
    ]
    assert (await app.jobs.get(job.id)).state == JobState.DELIVERED  # type: ignore[union-attr]

    # A process that died between claiming and confirming, and no public link to send
    # instead: never posted again by itself.
    stuck = await chat_job(app, JobState.PRODUCING, chat_id="43")
    await deliveries.claim(stuck.id, "telegram:43")
    with pytest.raises(DeliveryInterrupted):
        await deliver(app, stuck, production, post)
    failed = await app.jobs.get(stuck.id)
    assert failed is not None and failed.state == JobState.FAILED
    assert failed.error is not None and "at most once" in failed.error
    assert len(post.calls) == 1
    await deliver(app, stuck, production, post, retry_unknown=True)  # a person asked again
    assert len(post.calls) == 2
    assert [p.form(10**9) for p in post.posts] == [PostForm.VIDEO, PostForm.VIDEO]


async def test_a_post_cut_off_mid_way_is_followed_by_its_link_once(app: App) -> None:
    """Killed after the platform may have taken the video, before the post was recorded: the
    restarted process sends the link in a short message, never the video a second time."""
    deliveries = DeliveryRepository(app.db)
    job = await chat_job(app, JobState.PRODUCING, chat_id="45")
    published = Published.of(job.id, Path(job.work_dir), {"reel_url": "https://cdn.test/r.mp4"})
    await deliveries.claim(job.id, "telegram:45")  # the killed process's claim
    post = Deliverer()
    await deliver(app, job, published, post)
    await deliver(app, job, published, post)  # and again: already sent
    (only,) = post.posts
    assert only.interrupted and only.form(10**9) is PostForm.RESENT
    assert [(d.target, d.state) for d in await deliveries.for_job(job.id)] == [
        ("telegram:45", "sent")
    ]
    delivered = await app.jobs.get(job.id)
    assert delivered is not None and delivered.state == JobState.DELIVERED


async def test_a_shutdown_mid_post_still_records_the_post(app: App) -> None:
    """Cancelling the job (a bot shutting down) while the platform takes the video: the post
    and its record finish first, so the restarted bot neither reposts nor fails the job."""
    job = await chat_job(app, JobState.PRODUCING, chat_id="44")
    production = Published.of(job.id, Path(job.work_dir), {})
    posting, release = asyncio.Event(), asyncio.Event()

    async def slow_post(_: Post) -> None:
        posting.set()
        await release.wait()

    task = asyncio.create_task(deliver(app, job, production, slow_post))
    await posting.wait()
    task.cancel()
    await asyncio.sleep(0.05)
    assert not task.done()  # waiting for the post to end, not abandoning it
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    delivered = await app.jobs.get(job.id)
    assert delivered is not None and delivered.state == JobState.DELIVERED
    records = await DeliveryRepository(app.db).for_job(job.id)
    assert [(d.target, d.state) for d in records] == [("telegram:44", "sent")]


async def test_refused_and_unknown_posts(app: App) -> None:
    deliveries = DeliveryRepository(app.db)
    refused = await chat_job(app, JobState.PRODUCING, chat_id="1")
    production = Published.of(refused.id, Path(refused.work_dir), {})
    with pytest.raises(NotSent):
        await deliver(app, refused, production, Deliverer(NotSent("bot blocked by the user")))
    assert await deliveries.for_job(refused.id) == []  # surely not sent: the claim is gone
    state = await app.jobs.get(refused.id)
    assert state is not None and state.state == JobState.FAILED

    unknown = await chat_job(app, JobState.PRODUCING, chat_id="2")
    with pytest.raises(TimeoutError):
        await deliver(app, unknown, production, Deliverer(TimeoutError("no answer")))
    assert [d.state for d in await deliveries.for_job(unknown.id)] == ["sending"]
    state = await app.jobs.get(unknown.id)
    assert state is not None and state.error is not None and "unknown" in state.error


@pytest.mark.slow
async def test_resume_jobs_finishes_and_delivers_each_job_once(app: App) -> None:
    left = await chat_job(app, JobState.PRODUCING, chat_id="42")
    requested = await chat_job(app, JobState.QUEUED, origin="scheduled")
    in_review = await chat_job(app, JobState.SCRIPT_REVIEW)
    other_front = await chat_job(app, JobState.PRODUCING, origin="discord", chat_id="9")
    held = await chat_job(app, JobState.PRODUCING, chat_id="44")
    telegram, scheduled = Deliverer(), Deliverer()
    deliverers = {"telegram": telegram, "scheduled": scheduled}

    descriptor = try_lock(Path(held.work_dir))  # another process holds this one
    assert descriptor is not None
    try:
        with pytest.raises(JobBusy):
            await app.runner.produce(held.id)
        resumed = await resume_jobs(app, deliverers)
    finally:
        os.close(descriptor)

    assert sorted(resumed) == sorted([left.id, requested.id])
    assert [job_id for job_id, _ in telegram.calls] == [left.id]
    assert [job_id for job_id, _ in scheduled.calls] == [requested.id]
    assert str(telegram.calls[0][1]["reel"]).endswith("/reel.mp4")
    states = {job.id: job.state for job in await app.jobs.recent()}
    assert states[left.id] == states[requested.id] == JobState.DELIVERED
    assert states[in_review.id] == JobState.SCRIPT_REVIEW
    assert states[other_front.id] == states[held.id] == JobState.PRODUCING
    runs = len(await app.runs.since(datetime(2000, 1, 1, tzinfo=UTC)))

    # Once the holder is gone, the held job is resumed; the others are not touched again.
    assert await resume_jobs(app, deliverers) == [held.id]
    assert await resume_jobs(app, deliverers) == []
    assert len(telegram.calls) == 2 and len(scheduled.calls) == 1
    assert len(await app.runs.since(datetime(2000, 1, 1, tzinfo=UTC))) == runs + 6
