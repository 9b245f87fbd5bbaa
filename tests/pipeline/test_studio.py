"""The studio's rules, without any chat front (and without importing aiogram)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from pipeline.app import App
from pipeline.delivery import Post
from pipeline.errors import InputError, ProviderError
from pipeline.models import ImageCandidate, JobState, Scene, Script
from pipeline.ports import ImageSource
from pipeline.providers import build_offline
from pipeline.settings import Settings
from pipeline.studio import (
    AdminOnly,
    BadButton,
    Busy,
    DraftFailed,
    NotOwner,
    NoWriter,
    QuotaExceeded,
    RateLimited,
    Rendering,
    StaleJob,
    Studio,
    UnknownOption,
    WrongStep,
)

ALICE, BOB, ADMIN = "telegram:1", "telegram:2", "telegram:99"
PLAIN = "Octopuses have three hearts.\n\nTwo of them pump blood to the gills.\n\nBlue blood!"


class StubWriter:
    """A ScriptWriter that answers from a queue: a scene count or an exception."""

    name = "stub"

    def __init__(self) -> None:
        self.answers: list[int | Exception] = []
        self.calls = 0

    async def write(self, topic: str, *, language: str, seconds: int) -> Script:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else 3
        if isinstance(answer, Exception):
            raise answer
        scenes = [
            Scene(narration=f"{topic}: fact {i} (draft {self.calls}).") for i in range(answer)
        ]
        return Script(title=topic.title(), language=language, scenes=scenes, hashtags=["#x"])


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 5, 17, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def writer() -> StubWriter:
    return StubWriter()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def studio(settings: Settings, writer: StubWriter, clock: Clock) -> AsyncIterator[Studio]:
    settings = settings.model_copy(
        update={"admin_ids": [99], "drafts_per_hour": 3, "daily_render_quota": 1}
    )
    providers = build_offline(settings)
    providers.writers.append(writer)
    async with await App.open(settings, providers) as app:
        yield Studio(app, clock=clock)


async def test_draft_waits_for_review_and_a_duplicate_trigger_makes_no_second_job(
    studio: Studio, writer: StubWriter
) -> None:
    started = await studio.draft(ALICE, "  octopus   hearts ", "telegram:1:10", chat_id="1")
    assert started.fresh and started.job.state == JobState.SCRIPT_REVIEW
    assert started.job.topic == "octopus hearts" and started.job.owner_id == ALICE
    assert len(studio.script_of(started.job).scenes) == 3
    again = await studio.draft(ALICE, "octopus hearts", "telegram:1:10", chat_id="1")
    assert not again.fresh and again.job.id == started.job.id
    assert writer.calls == 1
    runs = await studio.app.runs.for_job(started.job.id)
    assert [(r.stage, r.outcome, r.provider) for r in runs] == [("script", "ok", "stub")]


async def test_concurrent_duplicates_start_one_job(studio: Studio, writer: StubWriter) -> None:
    first, second = await asyncio.gather(
        studio.draft(ALICE, "volcanoes", "k"), studio.draft(ALICE, "volcanoes", "k")
    )
    assert first.job.id == second.job.id and [first.fresh, second.fresh].count(True) == 1
    assert writer.calls == 1


@pytest.mark.parametrize("topic", ["ab", "x" * 301, " \u200b\n "])
async def test_topic_length(studio: Studio, topic: str) -> None:
    with pytest.raises(InputError) as caught:
        await studio.draft(ALICE, topic, "k")
    assert caught.value.code == "error.topic_length"
    assert caught.value.params["min"] == 3 and caught.value.params["max"] == 300


async def test_without_a_writer_the_user_is_told_about_own_scripts(studio: Studio) -> None:
    studio.app.providers.writers.clear()
    with pytest.raises(NoWriter) as caught:
        await studio.draft(ALICE, "volcanoes", "k")
    assert caught.value.code == "error.no_llm"
    assert await studio.app.jobs.by_key("k") is None


async def test_draft_rate_limit_tells_when_it_resets_and_admins_bypass_it(
    studio: Studio, clock: Clock
) -> None:
    first = clock.now
    for n in range(3):
        await studio.draft(ALICE, f"topic {n}", f"k{n}")
        clock.now += timedelta(minutes=10)
    with pytest.raises(RateLimited) as caught:
        await studio.draft(ALICE, "topic 4", "k4")
    assert caught.value.code == "error.rate_limited"
    assert caught.value.params == {"limit": 3, "reset": first + timedelta(hours=1)}
    await studio.draft(BOB, "topic 4", "b4")  # per user
    for n in range(5):
        await studio.draft(ADMIN, f"topic {n}", f"a{n}")
    clock.now = first + timedelta(hours=1, seconds=1)
    assert (await studio.draft(ALICE, "topic 4", "k4")).fresh


async def test_llm_outage_fails_the_draft_clearly(studio: Studio, writer: StubWriter) -> None:
    writer.answers.append(ProviderError("HTTP 500", provider="stub", retryable=True))
    with pytest.raises(DraftFailed) as caught:
        await studio.draft(ALICE, "volcanoes", "k")
    assert caught.value.code == "error.draft_failed"
    job = await studio.app.jobs.by_key("k")
    assert job is not None and job.state == JobState.FAILED
    runs = await studio.app.runs.for_job(job.id)
    assert [(r.stage, r.outcome) for r in runs] == [("script", "failed")]
    # The next message is a new trigger and works.
    assert (await studio.draft(ALICE, "volcanoes", "k2")).job.state == JobState.SCRIPT_REVIEW


async def test_own_script_skips_the_llm(studio: Studio, writer: StubWriter) -> None:
    plain = await studio.own_script(ALICE, PLAIN, "s1")
    script = studio.script_of(plain.job)
    assert plain.job.state == JobState.SCRIPT_REVIEW and len(script.scenes) == 3
    assert script.title == "Octopuses have three hearts."
    markdown = await studio.own_script(ALICE, "# Hearts\n\nOne.\n> octopus\n\nTwo.", "s2")
    script = studio.script_of(markdown.job)
    assert script.title == "Hearts" and script.scenes[0].visual_query == "octopus"
    assert writer.calls == 0
    assert not (await studio.own_script(ALICE, PLAIN, "s1")).fresh
    with pytest.raises(InputError) as caught:
        await studio.own_script(ALICE, "# Only a title", "s3")
    assert caught.value.code == "error.no_scenes"


async def test_edit_scene(studio: Studio) -> None:
    job = (await studio.own_script(ALICE, PLAIN, "s")).job
    edited = await studio.edit_scene(ALICE, job.id, 2, "  New\ntext\u0007 for two. ")
    assert [s.narration for s in studio.script_of(edited).scenes][1] == "New text for two."
    with pytest.raises(InputError) as too_long:
        await studio.edit_scene(ALICE, job.id, 1, "x" * 601)
    assert too_long.value.code == "error.edit_too_long"
    assert too_long.value.params == {"limit": 600, "length": 601}
    await studio.edit_scene(ALICE, job.id, 1, "y" * 600)
    with pytest.raises(InputError) as number:
        await studio.edit_scene(ALICE, job.id, 4, "text")
    assert number.value.code == "error.scene_number" and number.value.params["count"] == 3
    with pytest.raises(InputError):
        await studio.edit_scene(ALICE, job.id, 1, " \n ")


async def test_only_the_owner_acts_and_nothing_changes(studio: Studio) -> None:
    job = await studio.job((await studio.own_script(ALICE, PLAIN, "s")).job.id)
    for action in (
        studio.edit_scene(BOB, job.id, 1, "mine now"),
        studio.approve(BOB, job.id),
        studio.cancel(BOB, job.id),
        studio.rewrite(BOB, job.id),
    ):
        with pytest.raises(NotOwner) as caught:
            await action
        assert caught.value.code == "error.not_owner"
    assert await studio.job(job.id) == job


async def test_cancelled_jobs_are_stale(studio: Studio) -> None:
    job = (await studio.own_script(ALICE, PLAIN, "s")).job
    cancelled = await studio.cancel(ALICE, job.id)
    assert cancelled.state == JobState.CANCELLED
    for action in (
        studio.cancel(ALICE, job.id),
        studio.approve(ALICE, job.id),
        studio.edit_scene(ALICE, job.id, 1, "late"),
        studio.swap(ALICE, job.id, 1),
        studio.queue_render(ALICE, job.id),
    ):
        with pytest.raises(StaleJob) as caught:
            await action
        assert caught.value.code == "error.stale"


async def test_rewrite_replaces_the_script_and_an_outage_keeps_it(
    studio: Studio, writer: StubWriter
) -> None:
    job = (await studio.draft(ALICE, "volcanoes", "k")).job
    rewritten = await studio.rewrite(ALICE, job.id)
    assert "draft 2" in studio.script_of(rewritten).scenes[0].narration
    writer.answers.append(ProviderError("timeout", provider="stub", retryable=True))
    with pytest.raises(DraftFailed):
        await studio.rewrite(ALICE, job.id)
    kept = await studio.job(job.id)
    assert kept.state == JobState.SCRIPT_REVIEW and kept.script == rewritten.script


async def test_approve_gathers_candidates_and_swap_cycles_them(studio: Studio) -> None:
    job = (await studio.own_script(ALICE, PLAIN, "s")).job
    approved = await studio.approve(ALICE, job.id)
    assert approved.state == JobState.IMAGES_REVIEW
    assert approved.selection == {"scenes": [0, 0, 0]}
    runs = await studio.app.runs.for_job(job.id)
    # One search; the voice runs beside it in the background (pipeline.studio.preparing).
    assert [(r.stage, r.outcome) for r in runs if r.stage == "images"] == [("images", "ok")]
    with pytest.raises(WrongStep) as again:
        await studio.approve(ALICE, job.id)
    assert again.value.code == "error.wrong_step"

    choices = [(await studio.swap(ALICE, job.id, 2)).choice for _ in range(3)]
    assert choices == [2, 3, 1]
    swapped = await studio.swap(ALICE, job.id, 3)
    assert (swapped.choice, swapped.options) == (2, 3)
    assert swapped.job.selection == {"scenes": [0, 0, 1]}
    with pytest.raises(InputError):
        await studio.swap(ALICE, job.id, 4)

    sheet = Image.open(io.BytesIO(await studio.contact_sheet(swapped.job)))
    assert sheet.format == "JPEG" and sheet.size == (3 * 240 + 4 * 8, 426 + 2 * 8)


async def test_double_approve_gathers_once(studio: Studio) -> None:
    job = (await studio.own_script(ALICE, PLAIN, "s")).job
    results = await asyncio.gather(
        studio.approve(ALICE, job.id), studio.approve(ALICE, job.id), return_exceptions=True
    )
    assert sum(isinstance(r, WrongStep) for r in results) == 1
    await studio.preparations.settle(job.id)
    runs = await studio.app.runs.for_job(job.id)
    assert [r.stage for r in runs if r.stage in ("images", "voice")] == ["images", "voice"]


async def test_daily_quota_resets_at_midnight_utc_and_admins_bypass_it(
    studio: Studio, clock: Clock
) -> None:
    jobs = []
    for owner, key in ((ALICE, "a1"), (ALICE, "a2"), (ADMIN, "x1"), (ADMIN, "x2")):
        job = (await studio.own_script(owner, PLAIN, key)).job
        await studio.approve(owner, job.id)
        jobs.append(job)
    assert (await studio.queue_render(ALICE, jobs[0].id)).state == JobState.QUEUED
    with pytest.raises(QuotaExceeded) as caught:
        await studio.queue_render(ALICE, jobs[1].id)
    assert caught.value.code == "error.quota"
    assert caught.value.params == {"limit": 1, "reset": datetime(2030, 5, 18, tzinfo=UTC)}
    assert (await studio.job(jobs[1].id)).state == JobState.IMAGES_REVIEW
    with pytest.raises(Rendering):
        await studio.cancel(ALICE, jobs[0].id)
    await studio.queue_render(ADMIN, jobs[2].id)
    await studio.queue_render(ADMIN, jobs[3].id)
    clock.now = datetime(2030, 5, 18, 0, 0, 1, tzinfo=UTC)
    assert (await studio.queue_render(ALICE, jobs[1].id)).state == JobState.QUEUED


@pytest.mark.slow
async def test_render_produces_the_reel(studio: Studio, clock: Clock) -> None:
    clock.now = datetime.now(UTC)
    job = (await studio.own_script(ALICE, "Octopuses have three hearts.\n\nBlue blood.", "s")).job
    await studio.approve(ALICE, job.id)
    await studio.swap(ALICE, job.id, 1)
    stages: list[str] = []

    async def progress(event: object) -> None:
        stages.append(getattr(event, "stage", ""))

    delivered: list[str] = []

    async def deliverer(post: Post) -> None:
        published = post.published
        assert published.reel.is_file() and published.bytes == published.reel.stat().st_size
        assert (published.width, published.height) == (720, 1280) and published.duration > 0
        delivered.append(post.job.id)

    await studio.render(ALICE, job.id, deliverer, progress)
    assert delivered == [job.id]
    # The voice was made during the review: the render press finds it done.
    assert {"render", "upload"} <= set(stages) and "voice" not in stages
    assert (await studio.job(job.id)).state == JobState.DELIVERED
    stats = await studio.stats(ADMIN)
    assert stats.jobs == 1 and stats.success_rate == 1.0
    figures = {f.stage: f for f in stats.stages}
    assert {"images", "voice", "render"} <= set(figures)
    assert figures["render"].p50 <= figures["render"].p95
    with pytest.raises(AdminOnly):
        await studio.stats(ALICE)


async def test_preferences(studio: Studio) -> None:
    prefs = await studio.preferences(ALICE)
    assert (prefs.ui_language, prefs.language, prefs.voice, prefs.style) == (
        None,
        "en",
        None,
        "bold-yellow",
    )
    await studio.update_preferences(ALICE, voice="en-gb-x-rp", style="boxed", ui_language="ru")
    prefs = await studio.update_preferences(ALICE, language="es")
    assert (prefs.ui_language, prefs.language, prefs.voice, prefs.style) == (
        "ru",
        "es",
        None,
        "boxed",
    )
    assert "es-419" in studio.voice_options("es")
    for bad in ({"voice": "en-us"}, {"style": "comic"}, {"ui_language": "xx"}, {"colour": "x"}):
        with pytest.raises(UnknownOption):
            await studio.update_preferences(ALICE, **bad)
    job = (await studio.own_script(ALICE, "Hola a todos.", "s")).job
    assert (job.language, job.style) == ("es", "boxed")


async def test_music_is_on_until_the_user_turns_it_off(studio: Studio) -> None:
    assert (await studio.preferences(ALICE)).music is True
    prefs = await studio.update_preferences(ALICE, music=False)  # type: ignore[arg-type]
    assert prefs.music is False and (await studio.preferences(ALICE)).music is False
    record = await studio.users.get(ALICE)
    assert record is not None and record.music is False  # stored as 0, read back as a bool
    with pytest.raises(UnknownOption):
        await studio.update_preferences(ALICE, music="loud")
    assert (await studio.update_preferences(ALICE, music=True)).music is True  # type: ignore[arg-type]


def test_the_studio_imports_no_chat_library() -> None:
    code = "import sys, pipeline.studio; sys.exit(bool({'aiogram', 'discord'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


class GatedImages:
    """An image source that waits for ``gate`` and then hands over to the offline cards: a
    picture search that is still running while the test presses other buttons."""

    name = "gated"

    def __init__(self, inner: ImageSource) -> None:
        self.inner, self.gate, self.entered = inner, asyncio.Event(), asyncio.Event()

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        self.entered.set()
        await self.gate.wait()
        return await self.inner.candidates(script, scene, count, out_dir)


async def test_presses_during_the_picture_search_are_refused_at_once(studio: Studio) -> None:
    """Rewrite (or a second Approve, or Edit) pressed while the pictures are being found is
    refused before anything starts, instead of answering "working" and then doing nothing."""
    images = studio.app.providers.images
    gated = GatedImages(images[-1])
    images.insert(0, gated)
    job = (await studio.own_script(ALICE, PLAIN, "k")).job
    approving = asyncio.create_task(studio.approve(ALICE, job.id))
    await gated.entered.wait()
    for action in ("rewrite", "approve", "edit", "swap", "render"):
        with pytest.raises(Busy) as caught:
            await studio.authorize(ALICE, job.id, action)
        assert caught.value.code == "error.busy"
    with pytest.raises(NotOwner):  # someone else's press is still told it is not theirs
        await studio.authorize(BOB, job.id, "rewrite")
    assert (await studio.authorize(ALICE, job.id, "cancel")).id == job.id
    gated.gate.set()
    approved = await approving
    assert approved.state == JobState.IMAGES_REVIEW
    assert (await studio.authorize(ALICE, job.id, "swap")).id == job.id  # not busy any more
    with pytest.raises(BadButton):
        await studio.authorize(ALICE, job.id, "explode")


async def test_a_published_reel_takes_its_buttons_before_the_delivered_write(
    studio: Studio,
) -> None:
    # The post (with its Dub and YouTube buttons) goes out before the job is marked delivered:
    # a press in between must not be told the reel is still rendering.
    job = (await studio.own_script(ALICE, PLAIN, "pub")).job
    await studio.app.jobs.set_state(job.id, JobState.PRODUCING)
    with pytest.raises(Rendering):
        await studio.authorize(ALICE, job.id, "dub")
    await studio.app.jobs.update(job.id, result={"reel_url": "https://cdn.test/reel.mp4"})
    assert (await studio.authorize(ALICE, job.id, "dub")).id == job.id
    with pytest.raises(NotOwner):
        await studio.authorize(BOB, job.id, "dub")
