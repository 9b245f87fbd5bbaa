"""Runs the stages of one job: records each stage run, emits progress, resumes finished work.

A stage whose run is recorded as ``ok`` and whose artifacts are in the work folder is not run
again, so a restarted process picks a job up from its last finished stage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage import JobRepository, StageRunRepository
from storage.repositories import now

from .catalog import DEFAULT_STYLE, STYLES
from .errors import ReelError, StageError
from .models import ImageCandidate, JobState, Script, StageTiming, VoiceChoice, Voiceover
from .ports import BlobStore, ProgressCallback
from .providers import Providers
from .queue import RenderQueue
from .settings import Settings
from .stages import images as images_stage
from .stages import publish as publish_stage
from .stages import render as render_stage
from .stages import subtitles as subtitles_stage
from .stages import voice as voice_stage
from .stages.base import JobContext, write_json

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class StageRun:
    stage: str
    provider: str | None = None
    attempts: int = 1


@dataclass(slots=True)
class Production:
    job_id: str
    work: Path
    result: dict[str, Any]
    timings: list[StageTiming] = field(default_factory=list)


class Runner:
    def __init__(
        self,
        *,
        settings: Settings,
        jobs: JobRepository,
        runs: StageRunRepository,
        providers: Providers,
        store: BlobStore,
        queue: RenderQueue,
    ) -> None:
        self.settings = settings
        self.jobs = jobs
        self.runs = runs
        self.providers = providers
        self.store = store
        self.queue = queue

    async def context(self, job_id: str, progress: ProgressCallback | None = None) -> JobContext:
        job = await self.jobs.get(job_id)
        if job is None or job.script is None:
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
    async def record(
        self, job_id: str, stage: str, timings: list[StageTiming]
    ) -> AsyncIterator[StageRun]:
        """Record one stage run: provider, attempts, duration, outcome; errors name the stage."""
        run = StageRun(stage)
        run_id = await self.runs.start(job_id, stage, now())
        started = time.perf_counter()
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
            elapsed = time.perf_counter() - started
            await asyncio.shield(
                self.runs.finish(
                    run_id,
                    outcome=outcome,
                    duration_ms=round(elapsed * 1000),
                    provider=run.provider,
                    attempts=run.attempts,
                    error=error,
                )
            )
            timings.append(StageTiming(stage, run.provider or "-", elapsed, outcome))

    async def produce(
        self,
        job_id: str,
        progress: ProgressCallback | None = None,
        *,
        candidates: int = images_stage.CANDIDATES_PER_SCENE,
    ) -> Production:
        """Run every unfinished stage of a job. ``candidates`` is how many images per scene to
        gather: 3 where a person reviews them, 1 where nobody will (the CLI)."""
        ctx = await self.context(job_id, progress)
        ctx.work.mkdir(parents=True, exist_ok=True)
        write_json(ctx.path("script.json"), ctx.script.model_dump(mode="json"))
        await self.jobs.set_state(job_id, JobState.PRODUCING)
        try:
            production = await self._stages(ctx, candidates)
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                await self.jobs.set_state(job_id, JobState.FAILED, error=str(exc)[:2000])
            raise
        await self.jobs.update(job_id, result=production.result)
        return production

    async def _stages(self, ctx: JobContext, candidates_per_scene: int) -> Production:
        timings: list[StageTiming] = []
        finished = await self.runs.finished_stages(ctx.job_id)
        job = await self.jobs.get(ctx.job_id)
        assert job is not None
        selection = (job.selection or {}).get("scenes")

        voiceover, candidates = await asyncio.gather(
            self._voice(ctx, finished, timings),
            self._images(ctx, finished, timings, candidates_per_scene),
        )
        subs = ctx.path("subs.ass")
        if "subtitles" not in finished or not subs.is_file():
            async with self.record(ctx.job_id, "subtitles", timings) as run:
                run.provider = "ass"
                await ctx.report("subtitles", 0.0)
                await asyncio.to_thread(subtitles_stage.write_ass, subs, voiceover.words, ctx.style)
        if "render" not in finished or not render_stage.load(ctx):
            async with self.record(ctx.job_id, "render", timings) as run:
                run.provider = "ffmpeg"
                await render_stage.run(
                    ctx,
                    voiceover,
                    images_stage.chosen(candidates, selection),
                    voice_stage.normalised_audio(ctx),
                    subs,
                    self.queue,
                )
        async with self.record(ctx.job_id, "publish", timings) as run:
            run.provider = self.store.name
            published = await publish_stage.run(
                ctx,
                self.store,
                job.created_at,
                candidates,
                concurrency=self.settings.upload_concurrency,
            )
        result: dict[str, Any] = {**published, "duration": voiceover.duration}
        await ctx.report("done", 1.0)
        return Production(ctx.job_id, ctx.work, result, timings)

    async def _voice(
        self, ctx: JobContext, finished: set[str], timings: list[StageTiming]
    ) -> Voiceover:
        if "voice" in finished and (loaded := voice_stage.load(ctx)) is not None:
            return loaded
        async with self.record(ctx.job_id, "voice", timings) as run:
            served = await voice_stage.run(ctx, self.providers.synths, self.providers.aligners)
            run.provider, run.attempts = served.provider, served.attempts
            return served.value

    async def _images(
        self, ctx: JobContext, finished: set[str], timings: list[StageTiming], count: int
    ) -> list[list[ImageCandidate]]:
        if "images" in finished and (loaded := images_stage.load(ctx)) is not None:
            return loaded
        async with self.record(ctx.job_id, "images", timings) as run:
            candidates, provider = await images_stage.run(
                ctx, self.providers.images, count=count, fetch_media=self.providers.fetch_media
            )
            run.provider = provider
            return candidates
