"""One long reel on several workers: its scene segments as separate SAQ jobs, joined here.

A reel longer than ``render_split_seconds`` is not sent whole. Its segments (the render's
own plan, :func:`pipeline.render.segments.plan`, with the codec chosen here so every segment
is encoded alike) go on the line as one job each; every idle worker takes one. Each worker
encodes its segment exactly as a one-worker render would (``encode_segment``) and returns the
file; it lands in the job's ``segments/`` folder under the name the plan gives it. Then the
render runs here with every segment ready: it only encodes the sound and joins the segments
by stream copy, so the reel is bit-identical to a one-worker render of the same segments.
Segments already in that folder (encoded ahead during the review) are not sent at all.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from saq.job import Job

from ..errors import RenderError
from ..models import RenderSpec
from ..queue import ProgressCallback, QueueCallback
from ..render import RenderResult, segments
from ..stages.render_spec import codec_for
from ..workers.rendering import render_spec

if TYPE_CHECKING:
    from ..settings import Settings
    from .saq_render import RedisRenderQueue

logger = logging.getLogger(__name__)

SEGMENT_FUNCTION = "segment"
SEGMENT_FILE = "segment.mp4"  # in a segment job's attempt folder
ENCODE_SHARE = 0.9  # of the progress bar; the join and the sound take the rest


def segment_key(job_id: str, index: int) -> str:
    return f"{job_id}.s{index}"


class _Bar:
    """The segments' progress, weighted by their frames, as the encode's share of the bar."""

    def __init__(self, parts: list[segments.Segment], on_progress: ProgressCallback | None):
        total = max(sum(part.frames for part in parts), 1)
        self.weights = [part.frames / total for part in parts]
        self.done = [0.0] * len(parts)
        self.on_progress = on_progress

    def relay(self, number: int) -> ProgressCallback:
        async def report(fraction: float) -> None:
            self.done[number] = fraction
            if self.on_progress is not None:
                share = sum(f * w for f, w in zip(self.done, self.weights, strict=True))
                await self.on_progress(ENCODE_SHARE * share)

        return report

    async def joining(self, fraction: float) -> None:
        if self.on_progress is not None:
            await self.on_progress(ENCODE_SHARE + (1 - ENCODE_SHARE) * fraction)


async def render_split(
    rq: RedisRenderQueue,
    job_id: str,
    spec: RenderSpec,
    settings: Settings,
    on_queue: QueueCallback | None,
    on_progress: ProgressCallback | None,
) -> RenderResult:
    codec = await codec_for(settings)
    missing = [part for part in segments.plan(spec, codec) if not part.ready]
    parcel = await rq.staging.export(job_id, spec)
    jobs: list[Job] = []
    for part in missing:
        kwargs = {"job_id": job_id, "index": part.index, "codec": asdict(codec), **parcel}
        jobs.append(await rq.enqueue(segment_key(job_id, part.index), kwargs, SEGMENT_FUNCTION))
    logger.info("render %s: %d of %d segments on the workers", job_id, len(jobs), len(spec.cuts))
    bar = _Bar(missing, on_progress)
    try:
        finished = await _follow_all(rq, jobs, on_queue, bar)
        for part, job in zip(missing, finished, strict=True):
            result: dict[str, Any] = job.result or {}
            await rq.staging.take(result["folder"], {SEGMENT_FILE: part.path})
    except RenderError as exc:
        await asyncio.shield(rq.cancel(jobs, job_id))
        if rq.on_failed is not None:
            await rq.on_failed(job_id, exc)
        raise
    except BaseException:  # cancelled: the other segments leave the line too
        await asyncio.shield(rq.cancel(jobs, job_id))
        raise
    try:
        # Every segment is ready: this encodes the sound and joins, as a one-worker render.
        return await render_spec(spec, settings, job_id=job_id, on_progress=bar.joining)
    finally:
        await rq.staging.clean(job_id)


async def _follow_all(
    rq: RedisRenderQueue, jobs: list[Job], on_queue: QueueCallback | None, bar: _Bar
) -> list[Job]:
    """Every segment job to its end; the first failure stops following the others. The chat
    hears the place in line of the first segment."""
    following = [
        asyncio.create_task(rq.follow(job, on_queue if n == 0 else None, bar.relay(n)))
        for n, job in enumerate(jobs)
    ]
    try:
        return list(await asyncio.gather(*following))
    finally:
        for task in following:
            task.cancel()
        if following:
            await asyncio.wait(following)
        for job in jobs:
            rq.track(job.key, None)
