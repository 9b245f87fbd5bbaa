"""``reelfactory worker``: renders from the Redis queue, on any machine.

A worker owns no state: it never opens the database and needs only the render settings, the
Redis URL and either the shared data folder or the R2 credentials (``REELFACTORY_BLOB_STORE=r2``:
it fetches the inputs from R2 and puts the reel there). It renders into its attempt's folder,
relays progress
through the job's record (each update is also SAQ's heartbeat) and returns the result through
the queue; the bot takes it from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from saq import Worker
from saq.job import Job

from ..settings import Settings
from ..workers import build_staging
from ..workers.rendering import facts_of, render_spec
from ..workers.staging import Staging
from .saq_queue import FencedRedisQueue
from .saq_render import FUNCTION, open_queue, record_duration

logger = logging.getLogger(__name__)


def _beat_every(heartbeat: int) -> float:
    return max(0.2, heartbeat / 4)


def build_worker(
    settings: Settings,
    queue: FencedRedisQueue | None = None,
    *,
    worker_id: str | None = None,
    staging: Staging | None = None,
) -> Worker[Any]:
    queue = queue or open_queue(settings)
    files = staging or build_staging(settings)

    async def render(
        ctx: dict[str, Any], *, job_id: str, spec: dict[str, Any], segments: str | None = None
    ) -> dict[str, Any]:
        job: Job = ctx["job"]
        attempt = f"{job.attempts}-{ctx['worker'].id}"
        local = await files.bring_in(job_id, {"spec": spec, "segments": segments}, attempt)
        latest = 0.0

        async def on_progress(fraction: float) -> None:
            nonlocal latest
            latest = fraction

        async def beat() -> None:
            while True:
                await job.update(progress=latest)  # fenced: a lost job's beats change nothing
                await asyncio.sleep(_beat_every(job.heartbeat or settings.render_heartbeat))

        started = time.monotonic()
        beating = asyncio.create_task(beat(), name=f"heartbeat-{job_id}")
        try:
            result = await render_spec(local, settings, job_id=job_id, on_progress=on_progress)
            lost = await _lost(queue, job)
            folder = None if lost else await files.send_out(job_id, local)
        except BaseException:
            await files.drop(local)
            raise
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        seconds = time.monotonic() - started
        if folder is None:
            # Given to another worker while this one was away: drop this attempt's files; the
            # finish SAQ makes next is refused by the fence.
            logger.warning("render %s: no longer this worker's job, dropping its result", job_id)
            await files.drop(local)
            return {}
        await record_duration(queue, seconds)
        return {
            "folder": folder,
            **facts_of(result),
            "frames": result.frames,
            "seconds": round(seconds, 3),
            "worker": ctx["worker"].id,
        }

    return Worker(
        queue,
        functions=[(FUNCTION, render)],
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
