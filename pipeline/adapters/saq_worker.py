"""``reelfactory worker``: renders from the Redis queue, on any machine.

A worker owns no state: it never opens the database and needs only the render settings, the
Redis URL and either the shared data folder or the R2 credentials (``REELFACTORY_BLOB_STORE=r2``:
it fetches the inputs from R2 and puts the reel there). It renders into its attempt's folder,
relays progress through the job's record (each update is also SAQ's heartbeat) and returns the
result through the queue; the bot takes it from there.

Two kinds of work: ``render`` (a whole reel) and ``segment`` (one scene segment of a long reel
split across workers, :mod:`pipeline.adapters.saq_split`, encoded with the codec the bot chose).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from saq import Worker
from saq.job import Job

from ..models import RenderSpec
from ..render import Codec, RenderResult, resolve_ffmpeg, segments
from ..settings import Settings
from ..stages.subtitles import FONTS_DIR
from ..workers import build_staging
from ..workers.rendering import facts_of, render_spec
from ..workers.staging import Staging
from .saq_queue import FencedRedisQueue
from .saq_render import FUNCTION, open_queue, record_duration
from .saq_split import SEGMENT_FILE, SEGMENT_FUNCTION

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _beat_every(heartbeat: int) -> float:
    return max(0.2, heartbeat / 4)


class _Attempt:
    """One attempt at a job: its progress, sent with every heartbeat while it runs."""

    def __init__(self, job: Job, heartbeat: int) -> None:
        self.job, self.heartbeat = job, heartbeat
        self.latest = 0.0

    async def on_progress(self, fraction: float) -> None:
        self.latest = fraction

    @contextlib.asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        async def beat() -> None:
            while True:
                await self.job.update(progress=self.latest)  # fenced: a lost job's beats are no-ops
                await asyncio.sleep(_beat_every(self.job.heartbeat or self.heartbeat))

        task = asyncio.create_task(beat(), name=f"heartbeat-{self.job.key}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def build_worker(
    settings: Settings,
    queue: FencedRedisQueue | None = None,
    *,
    worker_id: str | None = None,
    staging: Staging | None = None,
) -> Worker[Any]:
    queue = queue or open_queue(settings)
    files = staging or build_staging(settings)

    async def sent(
        job: Job, job_id: str, local: RenderSpec, names: tuple[str, ...] | None = None
    ) -> str | None:
        """The attempt's files sent out, or None (and dropped) when the job is not ours."""
        if await _lost(queue, job):
            # Given to another worker while this one was away: the finish SAQ makes next is
            # refused by the fence.
            logger.warning("render %s: no longer this worker's job, dropping its result", job_id)
            await files.drop(local)
            return None
        if names is None:
            return await files.send_out(job_id, local)
        return await files.send_out(job_id, local, names)

    async def attempted(
        ctx: dict[str, Any],
        job_id: str,
        staged: dict[str, Any],
        label: str,
        work: Callable[[RenderSpec, _Attempt], Awaitable[T]],
        names: tuple[str, ...] | None = None,
    ) -> tuple[str | None, T, float]:
        """One attempt: the job's files brought in, ``work`` done under heartbeats, the result
        sent out (dropped on failure). The folder (None when the job is no longer ours), what
        ``work`` returned and the seconds it all took."""
        job: Job = ctx["job"]
        attempt = _Attempt(job, settings.render_heartbeat)
        name = f"{label}{job.attempts}-{ctx['worker'].id}"
        local = await files.bring_in(job_id, staged, name)
        started = time.monotonic()
        try:
            async with attempt.beating():
                value = await work(local, attempt)
                folder = await sent(job, job_id, local, names)
        except BaseException:
            await files.drop(local)
            raise
        return folder, value, time.monotonic() - started

    async def render(
        ctx: dict[str, Any], *, job_id: str, spec: dict[str, Any], segments: str | None = None
    ) -> dict[str, Any]:
        async def whole(local: RenderSpec, attempt: _Attempt) -> RenderResult:
            return await render_spec(
                local, settings, job_id=job_id, on_progress=attempt.on_progress
            )

        staged = {"spec": spec, "segments": segments}
        folder, result, seconds = await attempted(ctx, job_id, staged, "", whole)
        if folder is None:
            return {}
        await record_duration(queue, seconds)
        return {
            "folder": folder,
            **facts_of(result),
            "frames": result.frames,
            "seconds": round(seconds, 3),
            "worker": ctx["worker"].id,
        }

    async def segment(
        ctx: dict[str, Any],
        *,
        job_id: str,
        index: int,
        codec: dict[str, Any],
        spec: dict[str, Any],
        segments: str | None = None,
    ) -> dict[str, Any]:
        async def one(local: RenderSpec, attempt: _Attempt) -> None:
            await _encode_one(local, index, Codec(**codec), settings, attempt)

        staged = {"spec": spec, "segments": segments}
        folder, _, seconds = await attempted(
            ctx, job_id, staged, f"s{index}-", one, (SEGMENT_FILE,)
        )
        if folder is None:
            return {}
        return {"folder": folder, "seconds": round(seconds, 3), "worker": ctx["worker"].id}

    return Worker(
        queue,
        functions=[(FUNCTION, render), (SEGMENT_FUNCTION, segment)],
        id=worker_id,
        concurrency=settings.worker_concurrency,
        timers={
            "sweep": settings.render_sweep_interval,
            "abort": 1,
            "schedule": 1,
            "worker_info": 5,
        },
        metadata={"slots": settings.worker_concurrency},
        shutdown_grace_period_s=int(settings.render_timeout),
    )


async def _encode_one(
    local: RenderSpec, index: int, codec: Codec, settings: Settings, attempt: _Attempt
) -> None:
    """Scene ``index``'s segment, as a one-worker render encodes it, at ``SEGMENT_FILE``."""
    part = segments.plan(local, codec)[index]
    async with asyncio.timeout(settings.render_timeout):
        path = await segments.encode_segment(
            local,
            part,
            codec=codec,
            binary=resolve_ffmpeg(settings.ffmpeg_binary),
            fonts_dir=FONTS_DIR,
            nice=settings.render_nice,
            on_frames=attempt.on_progress,
        )
    os.replace(path, local.out_path.with_name(SEGMENT_FILE))


async def _lost(queue: FencedRedisQueue, job: Job) -> bool:
    """Whether ``job`` was given to another attempt while this one rendered."""
    current = await queue.job(job.key)
    return current is None or (current.attempts, current.worker_id) != (
        job.attempts,
        job.worker_id,
    )


async def run_worker(settings: Settings, *, worker_id: str | None = None) -> None:
    """Render until SIGINT/SIGTERM (a render in progress is finished first)."""
    staging = build_staging(settings)
    worker = build_worker(settings, worker_id=worker_id, staging=staging)
    logger.info("worker %s: taking renders from %s", worker.id, settings.render_queue_name)
    try:
        await worker.queue.connect()
        await worker.start()
    finally:
        try:
            await worker.queue.disconnect()
        finally:
            await staging.aclose()
