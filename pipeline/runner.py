"""Runs the stages of one job: records each stage run, emits progress, resumes finished work.

A stage whose run is recorded as ``ok`` and whose artifacts are in the work folder is not run
again, so a restarted process picks a job up from its last finished stage; a stage that runs
again makes the stages after it run again too. Assets go to the blob store in the background as
soon as they exist (``pipeline.uploads``); the publish stage waits for all of them.

Only one task at a time may produce a job: ``Runner.exclusive`` holds an advisory file lock
in the job's work folder, which the kernel releases when the holder dies, however it dies.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from storage import JobRecord, JobRepository, StageRunRepository, UploadRepository
from storage.jobs_queries import JobQueries
from storage.repositories import now

from .artifacts import REEL, SCRIPT, SUBTITLES, THUMB, THUMB_SMALL
from .catalog import DEFAULT_STYLE, STYLES
from .cleanup import sweep_partials, try_lock
from .concurrency import both
from .delivery import Published
from .errors import JobBusy, ReelError, StageError
from .logs import job_context
from .models import (
    ImageCandidate,
    JobState,
    ProgressEvent,
    Script,
    Stage,
    StageTiming,
    VoiceChoice,
    Voiceover,
)
from .ports import BlobStore, ProgressCallback
from .providers import Providers
from .queue import RenderQueue
from .settings import Settings
from .stages import images as images_stage
from .stages import music as music_stage
from .stages import publish as publish_stage
from .stages import render as render_stage
from .stages import subtitles as subtitles_stage
from .stages import voice as voice_stage
from .stages.base import JobContext, write_json
from .uploads import AnnouncingImages, Uploader

logger = logging.getLogger(__name__)


FAILPOINT_ENV = "REELFACTORY_FAILPOINT"
# Jobs the current task (and the tasks it started) holds; see Runner.exclusive.
_HELD: ContextVar[frozenset[str]] = ContextVar("reelfactory_held_jobs", default=frozenset())


def failpoint(name: str) -> None:
    """Crash tests' hook, inert unless ``REELFACTORY_FAILPOINT`` equals ``name``: then the
    process kills itself with SIGKILL right here, as a power cut would, with no clean-up.

    Points: ``voice`` (the voice's files are written, its stage run is still ``running``) and
    ``before_reel_upload`` (the render is done and every other asset is confirmed in the store).
    """
    if os.environ.get(FAILPOINT_ENV) == name:
        logger.warning("failpoint %s: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(slots=True)
class StageRun:
    stage: str
    provider: str | None = None
    attempts: int = 1
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=now)
    moved: bool = False

    def begin_now(self) -> None:
        """The stage's own work starts now: it waited until here (for the render queue)."""
        self.started, self.started_at, self.moved = time.perf_counter(), now(), True


@dataclass(slots=True)
class Production:
    job_id: str
    work: Path
    result: dict[str, Any]  # as stored on the job: links, prefix, size, dimensions, duration
    timings: list[StageTiming] = field(default_factory=list)

    @property
    def published(self) -> Published:
        return Published.of(self.job_id, self.work, self.result)


class Runner:
    def __init__(
        self,
        *,
        settings: Settings,
        jobs: JobRepository,
        runs: StageRunRepository,
        uploads: UploadRepository,
        queries: JobQueries,
        providers: Providers,
        store: BlobStore,
        queue: RenderQueue,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.runs = runs
        self.uploads = uploads
        self.queries = queries
        self.providers = providers
        self.store = store
        self.queue = queue
        # Jobs being prepared in this process (``prepare``): ``exclusive`` waits for them.
        self._preparing: dict[str, asyncio.Event] = {}

    async def _job(self, job_id: str) -> JobRecord:
        job = await self.jobs.get(job_id)
        if job is None:
            raise ReelError(f"no job {job_id}", code="error.job_missing")
        return job

    async def context(self, job_id: str, progress: ProgressCallback | None = None) -> JobContext:
        job = await self._job(job_id)
        if job.script is None:
            raise ReelError(f"job {job_id} has no script", code="error.job_missing")
        ctx = JobContext(
            job_id=job.id,
            script=Script.model_validate(job.script),
            work=Path(job.work_dir),
            voice=VoiceChoice(
                language=job.language, voice=job.voice, rate=self.settings.speech_rate
            ),
            style=STYLES.get(job.style, STYLES[DEFAULT_STYLE]),
            settings=self.settings,
        )
        if progress is not None:
            ctx.progress = progress
        return ctx

    @asynccontextmanager
    async def exclusive(self, job_id: str) -> AsyncIterator[None]:
        """Hold ``job_id`` for the current task and the tasks it starts; raise JobBusy when
        another process or task holds it. Re-entrant: ``produce`` takes it too, so a caller
        that produces and then delivers holds the job across both."""
        held = _HELD.get()
        if job_id in held:
            yield
            return
        while (preparing := self._preparing.get(job_id)) is not None:
            await preparing.wait()  # this process's own preparation: it ends by itself
        job = await self._job(job_id)
        descriptor = try_lock(Path(job.work_dir))
        if descriptor is None:
            raise JobBusy(f"job {job_id} is being produced by another process")
        token = _HELD.set(held | {job_id})
        try:
            yield
        finally:
            _HELD.reset(token)
            os.close(descriptor)  # releases the lock

    @asynccontextmanager
    async def record(
        self, job_id: str, stage: str, timings: list[StageTiming]
    ) -> AsyncIterator[StageRun]:
        with job_context(job_id=job_id, stage=stage):  # on every log line of the stage
            async with self._recorded(job_id, stage, timings) as run:
                yield run

    @asynccontextmanager
    async def _recorded(
        self, job_id: str, stage: str, timings: list[StageTiming]
    ) -> AsyncIterator[StageRun]:
        run = StageRun(stage)
        run_id = await self.runs.start(job_id, stage, run.started_at)
        outcome, error = "ok", None
        try:
            yield run
        except BaseException as exc:
            outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "failed"
            error = str(exc)[:2000]
            if isinstance(exc, ReelError) and exc.stage is None:
                exc.stage = stage
            if isinstance(exc, Exception) and not isinstance(exc, ReelError):
                raise StageError(f"{type(exc).__name__}: {exc}", stage=stage) from exc
            raise
        finally:
            elapsed = time.perf_counter() - run.started
            await asyncio.shield(self._finish(run_id, run, outcome, elapsed, error))
            timings.append(StageTiming(stage, run.provider or "-", elapsed, outcome))

    async def _finish(
        self, run_id: int, run: StageRun, outcome: str, elapsed: float, error: str | None
    ) -> None:
        if run.moved:
            await self.queries.move_run_start(run_id, run.started_at)
        await self.runs.finish(
            run_id,
            outcome=outcome,
            duration_ms=round(elapsed * 1000),
            provider=run.provider,
            attempts=run.attempts,
            error=error,
        )

    async def produce(
        self,
        job_id: str,
        progress: ProgressCallback | None = None,
        *,
        candidates: int = images_stage.CANDIDATES_PER_SCENE,
    ) -> Production:
        """Run every unfinished stage of a job, publish it, and store the result. ``candidates``
        is how many images per scene to gather: 3 where a person reviews them, 1 where nobody
        will (the CLI). A job already published only gets its stored result back."""
        async with self.exclusive(job_id):
            ctx = await self.context(job_id, progress)
            job = await self._job(job_id)
            if job.result is not None and "publish" in await self.runs.finished_stages(job_id):
                return Production(job_id, ctx.work, job.result)
            swept = await asyncio.to_thread(sweep_partials, ctx.work)
            interrupted = await self.queries.interrupt_running(job_id)
            if swept or interrupted:
                logger.info(
                    "job %s: resuming after a stop (%d stage runs interrupted, %d partial files)",
                    job_id,
                    interrupted,
                    swept,
                )
            write_json(ctx.path(SCRIPT), ctx.script.model_dump(mode="json"))
            await self.jobs.set_state(job_id, JobState.PRODUCING)
            try:
                production = await self._stages(ctx, job, candidates)
            except BaseException as exc:
                if not isinstance(exc, asyncio.CancelledError):
                    await self.jobs.set_state(job_id, JobState.FAILED, error=str(exc)[:2000])
                raise
            await self.jobs.update(job_id, result=production.result)
            return production

    async def _stages(self, ctx: JobContext, job: JobRecord, per_scene: int) -> Production:
        timings: list[StageTiming] = []
        finished = await self.runs.finished_stages(ctx.job_id)
        fresh: set[str] = set()  # stages run by this call: what follows them runs again
        selection = (job.selection or {}).get("scenes")
        async with Uploader(
            job_id=job.id,
            prefix=publish_stage.job_prefix(job.id, job.created_at),
            store=self.store,
            ledger=self.uploads,
            queries=self.queries,
            concurrency=self.settings.upload_concurrency,
        ) as uploader:
            uploader.submit(SCRIPT, ctx.path(SCRIPT))
            voiceover, candidates = await both(
                self._voice_and_music(ctx, finished, fresh, timings, uploader),
                self._images(ctx, finished, fresh, timings, uploader, per_scene),
            )
            subs = await self._subtitles(ctx, voiceover, finished, fresh, timings, uploader)
            uploader.submit(SUBTITLES, subs)
            facts = None if "render" not in finished or fresh else render_stage.load(ctx)
            if facts is None:
                await uploader.forget(THUMB, THUMB_SMALL, REEL)
                async with self.record(ctx.job_id, "render", timings) as run:
                    run.provider = "ffmpeg"
                    # The run starts when the render does, not while it waits in the queue.
                    rendering = replace(ctx, progress=_on_first(ctx.progress, run.begin_now))
                    facts = await render_stage.run(
                        rendering,
                        voiceover,
                        images_stage.chosen(candidates, selection),
                        voice_stage.audio_path(ctx),
                        subs,
                        self.queue,
                    )
                    run.provider = f"ffmpeg:{facts.get('encoder', 'libx264')}"
            uploader.submit(THUMB, ctx.path(THUMB))
            uploader.submit(THUMB_SMALL, ctx.path(THUMB_SMALL))
            async with self.record(ctx.job_id, "publish", timings) as run:
                run.provider = self.store.name
                await publish_stage.settle(ctx, uploader, candidates)
                failpoint("before_reel_upload")
                published = await publish_stage.finish(ctx, uploader)
        soundtrack = music_stage.load(ctx)
        credit = soundtrack.credit if soundtrack is not None else None
        result: dict[str, Any] = {**published, **facts, "credit": credit}
        await ctx.report(Stage.DONE, 1.0)
        return Production(ctx.job_id, ctx.work, result, timings)

    async def prepare(self, job_id: str, subtitled: Callable[[], None] | None = None) -> None:
        """The voice, its subtitles and music of an approved script, before a render is asked
        for: the same recorded stage runs ``produce`` finds finished later. ``subtitled`` is
        called once the subtitles exist, before the music (all a picture needs). Holds the
        job meanwhile: ``exclusive`` in this process waits for it to end, another process gets
        JobBusy. Nothing is uploaded yet: ``produce`` sends what it finds."""
        async with self.exclusive(job_id):
            done = self._preparing[job_id] = asyncio.Event()
            try:
                await self._prepare(job_id, subtitled)
            finally:
                del self._preparing[job_id]
                done.set()

    async def _prepare(self, job_id: str, subtitled: Callable[[], None] | None) -> None:
        ctx = await self.context(job_id)
        ctx.work.mkdir(parents=True, exist_ok=True)
        timings: list[StageTiming] = []
        finished = await self.runs.finished_stages(job_id)
        fresh: set[str] = set()
        voiceover = await self._voice(ctx, finished, fresh, timings, None)
        await self._subtitles(ctx, voiceover, finished, fresh, timings, None)
        if subtitled is not None:
            subtitled()
        await self._music(ctx, voiceover, finished, fresh, timings, None)
        logger.info(
            "job %s: prepared before the render: %s",
            job_id,
            ", ".join(t.stage for t in timings) or "nothing left to do",
        )

    async def _subtitles(
        self,
        ctx: JobContext,
        voiceover: Voiceover,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Path:
        subs = ctx.path(SUBTITLES)
        if "subtitles" not in finished or "voice" in fresh or not subs.is_file():
            if uploader is not None:
                await uploader.forget(SUBTITLES)
            async with self.record(ctx.job_id, "subtitles", timings) as run:
                run.provider = "ass"
                await ctx.report("subtitles", 0.0)
                await asyncio.to_thread(subtitles_stage.write_ass, subs, voiceover.words, ctx.style)
            fresh.add("subtitles")
        return subs

    async def _voice(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Voiceover:
        audio = voice_stage.audio_path(ctx)
        if "voice" in finished and (loaded := voice_stage.load(ctx)) is not None:
            if uploader is not None:
                uploader.submit(audio.name, audio)
            return loaded
        if uploader is not None:
            await uploader.forget(audio.name)
        async with self.record(ctx.job_id, "voice", timings) as run:
            served = await voice_stage.run(ctx, self.providers.synths, self.providers.aligners)
            run.provider, run.attempts = served.provider, served.attempts
            failpoint("voice")
        fresh.add("voice")
        if uploader is not None:
            uploader.submit(audio.name, audio)
        return served.value

    async def _voice_and_music(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> Voiceover:
        """The voice, then the music for its length, while the images are still coming."""
        voiceover = await self._voice(ctx, finished, fresh, timings, uploader)
        await self._music(ctx, voiceover, finished, fresh, timings, uploader)
        return voiceover

    async def _music(
        self,
        ctx: JobContext,
        voiceover: Voiceover,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader | None,
    ) -> None:
        soundtrack = music_stage.load(ctx)
        if "music" not in finished or "voice" in fresh or soundtrack is None:
            if uploader is not None:
                await uploader.forget(music_stage.MUSIC, music_stage.SFX_FOLDER)
            async with self.record(ctx.job_id, "music", timings) as run:
                soundtrack = await music_stage.run(
                    ctx,
                    self.providers.sounds,
                    seconds=voiceover.duration,
                    fetch_audio=self.providers.fetch_audio,
                )
                run.provider = soundtrack.music_provider or "none"
            fresh.add("music")
        if uploader is not None:
            for name, path in music_stage.assets(soundtrack):
                uploader.submit(name, path)

    async def _images(
        self,
        ctx: JobContext,
        finished: set[str],
        fresh: set[str],
        timings: list[StageTiming],
        uploader: Uploader,
        per_scene: int,
    ) -> list[list[ImageCandidate]]:
        if "images" in finished and (loaded := images_stage.load(ctx)) is not None:
            _submit_images(uploader, loaded)
            return loaded
        await uploader.forget("images/")

        def landed(scene: int, first: int, found: list[ImageCandidate]) -> None:
            for index, candidate in enumerate(found, start=first):
                name = publish_stage.image_name(scene, index, candidate.path)
                uploader.submit(name, candidate.path)

        sources = [AnnouncingImages(s, per_scene, landed) for s in self.providers.images]
        async with self.record(ctx.job_id, "images", timings) as run:
            candidates, provider = await images_stage.run(
                ctx, sources, count=per_scene, fetch_media=self.providers.fetch_media
            )
            run.provider = provider
        fresh.add("images")
        _submit_images(uploader, candidates)  # the user's own media were not announced
        return candidates


def _submit_images(uploader: Uploader, candidates: list[list[ImageCandidate]]) -> None:
    for scene, options in enumerate(candidates):
        for index, candidate in enumerate(options):
            uploader.submit(publish_stage.image_name(scene, index, candidate.path), candidate.path)


def _on_first(progress: ProgressCallback, hook: Callable[[], None]) -> ProgressCallback:
    """Call ``hook`` at the render's first progress event (it has its queue slot then)."""
    started = False

    async def forward(event: ProgressEvent) -> None:
        nonlocal started
        if not started and event.stage == "render":
            started = True
            hook()
        await progress(event)

    return forward
