"""Work started at approval: the voice beside the picture search, the sheet at one picture
per scene, the alternates after it (pipeline.studio.preparing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.artifacts import SUBTITLES, VOICE_JSON
from pipeline.delivery import Post
from pipeline.models import ImageCandidate, JobState, Script, VoiceChoice, Voiceover
from pipeline.ports import ImageSource, SpeechSynth
from pipeline.providers import build_offline
from pipeline.settings import Settings
from pipeline.stages import images as images_stage
from pipeline.studio import Studio

ALICE = "telegram:1"
PLAIN = "Octopuses have three hearts.\n\nTwo of them pump blood to the gills.\n\nBlue blood!"


class AlternatesGated:
    """Pictures from the offline cards: the first of each scene at once, more only once the
    scene's gate opens (a slow download of the alternates)."""

    def __init__(self, inner: ImageSource, scenes: int) -> None:
        self.name = inner.name  # the cards' candidates carry this provider name
        self.inner = inner
        self.gates = [asyncio.Event() for _ in range(scenes)]

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        if count > 1:
            await self.gates[scene].wait()
        return await self.inner.candidates(script, scene, count, out_dir)


class GatedVoice:
    """The offline voice, once ``gate`` opens: a synthesis still running."""

    def __init__(self, inner: SpeechSynth) -> None:
        self.name, self.inner = inner.name, inner
        self.entered, self.gate = asyncio.Event(), asyncio.Event()

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        self.entered.set()
        await self.gate.wait()
        return await self.inner.synthesize(script, voice, out_dir)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with await App.open(settings, build_offline(settings)) as opened:
        yield opened


async def _stages(app: App, job_id: str) -> list[tuple[str, str]]:
    return [(run.stage, run.outcome or "") for run in await app.runs.for_job(job_id)]


async def test_the_voice_is_made_beside_the_search_and_the_render_finds_it(app: App) -> None:
    studio = Studio(app)
    job = (await studio.own_script(ALICE, PLAIN, "k")).job
    await studio.approve(ALICE, job.id)
    await studio.preparations.settle(job.id)  # the voice, its music and subtitles are done
    ctx = await app.runner.context(job.id)
    assert ctx.path(VOICE_JSON).is_file() and ctx.path(SUBTITLES).is_file()
    assert [s for s, _ in await _stages(app, job.id)] == ["images", "voice", "subtitles", "music"]

    delivered: list[str] = []

    async def deliverer(post: Post) -> None:
        delivered.append(post.job.id)

    await studio.render(ALICE, job.id, deliverer)
    assert delivered == [job.id]
    stages = await _stages(app, job.id)
    # Nothing made twice: the render press ran only what was left.
    assert [s for s, _ in stages] == [
        "images",
        "voice",
        "subtitles",
        "music",
        "render",
        "publish",
    ]
    assert all(outcome == "ok" for _, outcome in stages)


async def test_cancel_stops_the_voice_in_the_works(app: App) -> None:
    studio = Studio(app)
    gated = GatedVoice(app.providers.synths[0])
    app.providers.synths.insert(0, gated)
    job = (await studio.own_script(ALICE, PLAIN, "k")).job
    await studio.approve(ALICE, job.id)
    await gated.entered.wait()  # the synthesis is under way, behind the review
    await studio.cancel(ALICE, job.id)
    assert not gated.gate.is_set()
    assert ("voice", "cancelled") in await _stages(app, job.id)
    ctx = await app.runner.context(job.id)
    assert not ctx.path(VOICE_JSON).exists()
    # The job's lock is free again: nothing of it runs any more.
    async with app.runner.exclusive(job.id):
        pass


async def test_the_sheet_needs_one_picture_per_scene_and_a_swap_waits_for_its_scene_only(
    app: App,
) -> None:
    studio = Studio(app)
    gated = AlternatesGated(app.providers.images[-1], scenes=3)
    app.providers.images[:] = [gated]
    job = (await studio.own_script(ALICE, PLAIN, "k")).job
    approved = await studio.approve(ALICE, job.id)  # no alternate has arrived yet
    assert approved.state == JobState.IMAGES_REVIEW
    ctx = await app.runner.context(job.id)
    shown = images_stage.load(ctx)
    assert shown is not None and [len(options) for options in shown] == [1, 1, 1]
    assert len(await studio.contact_sheet(approved)) > 0
    assert [studio.alternates_pending(job.id, scene) for scene in (1, 2, 3)] == [True] * 3

    gated.gates[0].set()  # scene 1's alternates arrive; scene 2's are still on their way
    async with asyncio.timeout(10):
        first = await studio.swap(ALICE, job.id, 1)
    assert (first.choice, first.options) == (2, 3)
    swapping = asyncio.create_task(studio.swap(ALICE, job.id, 2))
    assert studio.alternates_pending(job.id, 2)
    gated.gates[1].set()
    second = await swapping
    # It waited: before the gate opened, scene 2 had one picture and a swap had nothing to show.
    assert (second.choice, second.options) == (2, 3)
    saved = images_stage.load(ctx)
    assert saved is not None and [len(options) for options in saved] == [3, 3, 1]
    assert saved[0][0] == shown[0][0]  # the picture on the sheet keeps its place
    await studio.cancel(ALICE, job.id)
    assert not studio.alternates_pending(job.id, 3)  # stopped with the job


async def test_after_a_restart_the_review_gets_its_alternates_and_keeps_its_voice(
    settings: Settings,
) -> None:
    async with await App.open(settings, build_offline(settings)) as first:
        studio = Studio(first)
        gated = AlternatesGated(first.providers.images[-1], scenes=3)
        first.providers.images[:] = [gated]
        job = (await studio.own_script(ALICE, PLAIN, "k")).job
        await studio.approve(ALICE, job.id)
        await studio.preparations.settle(job.id)  # voice done; the alternates stop here
    async with await App.open(settings, build_offline(settings)) as second:
        studio = Studio(second)
        ctx = await second.runner.context(job.id)
        before = images_stage.load(ctx)
        assert before is not None and [len(options) for options in before] == [1, 1, 1]
        assert await studio.resume({}) == []  # no front of this origin: nothing restarts
        assert not studio.alternates_pending(job.id, 1)

        async def deliverer(post: Post) -> None:
            raise AssertionError("nothing is delivered from a review")

        await studio.resume({"telegram": deliverer})
        await studio.preparations.ready(job.id)
        await studio.preparations.settle(job.id)
        after = images_stage.load(ctx)
        assert after is not None and [len(options) for options in after] == [3, 3, 3]
        stages = [stage for stage, _ in await _stages(second, job.id)]
        assert stages.count("voice") == 1 and stages.count("subtitles") == 1
