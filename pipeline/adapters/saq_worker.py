"""``reelfactory worker``: renders from the Redis queue, on any machine.

A worker owns no state: it never opens the database and needs only the render settings, the
shared data folder and the Redis URL. It renders into its attempt's folder, relays progress
through the job's record (each update is also SAQ's heartbeat) and returns the result through
the queue; the bot takes it from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from typing import Any

from saq import Worker
from saq.job import Job

from ..settings import Settings
from ..workers.rendering import facts_of, render_spec
from ..workers.staging import SharedFolder
from .saq_queue import FencedRedisQueue
from .saq_render import FUNCTION, open_queue, record_duration

logger = logging.getLogger(__name__)


def _beat_every(heartbeat: int) -> float:
    return max(0.2, heartbeat / 4)


def build_worker(
    settings: Settings, queue: FencedRedisQueue | None = None, *, worker_id: str | None = None
) -> Worker[Any]:
    queue = queue or open_queue(settings)
    folder = SharedFolder(settings.data_dir)

    async def render(ctx: dict[str, Any], *, job_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        job: Job = ctx["job"]
        attempt = f"{job.attempts}-{ctx['worker'].id}"
        local = folder.bring_in(job_id, spec, attempt)
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
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        seconds = time.monotonic() - started
        current = await queue.job(job.key)
        if current is None or (current.attempts, current.worker_id) != (
            job.attempts,
            job.worker_id,
        ):
            # Given to another worker while this one was away: drop this attempt's files; the
            # finish SAQ makes next is refused by the fence.
            logger.warning("render %s: no longer this worker's job, dropping its result", job_id)
            shutil.rmtree(local.out_path.parent, ignore_errors=True)
            return {}
        await record_duration(queue, seconds)
        return {
            "folder": folder.result_dir(local.out_path),
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


async def run_worker(settings: Settings, *, worker_id: str | None = None) -> None:
    """Render until SIGINT/SIGTERM (a render in progress is finished first)."""
    worker = build_worker(settings, worker_id=worker_id)
    logger.info("worker %s: taking renders from %s", worker.id, settings.render_queue_name)
    try:
        await worker.queue.connect()
        await worker.start()
    finally:
        await worker.queue.disconnect()
