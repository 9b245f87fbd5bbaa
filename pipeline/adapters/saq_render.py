"""The render queue on Redis (``REELFACTORY_RENDER_BACKEND=redis``), the bot's side.

Why SAQ and not arq: SAQ keeps a per-job heartbeat and any live worker sweeps a job whose
heartbeat lapsed, so a killed worker's render is retried after ``render_heartbeat`` +
``render_sweep_interval`` seconds, while a long render that keeps beating is never cut short.
arq only expires its in-progress key after ``job_timeout`` (a killed render waits that out,
arq#343), and pins ``redis<6``. The queue carries the job's key (the job id), the spec with
shared-folder paths and returns a small result (the attempt's folder and the render's facts);
the bot stays the only writer of its database and the only one that delivers.

Guarantees, as the tests check them: a job is in Redis (its record, the ``incomplete`` set and
the ``queued`` list) from enqueue on, so with AOF ``appendfsync always`` a Redis restart between
enqueue and pick-up loses nothing; a job is retried on its worker's death and fails after
``render_attempts`` attempts; the fence in ``saq_queue`` makes a late worker's writes no-ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError
from saq.job import Job, Status

from ..errors import RenderError
from ..models import RenderSpec
from ..queue import Demand, Durations, ProgressCallback, QueueCallback, QueueStatus
from ..render import RenderResult
from ..workers.staging import SharedFolder
from .saq_queue import FencedRedisQueue

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger(__name__)

FUNCTION = "render"
POLL = 0.2  # s between looks at a job's record: progress, place in line, result
DURATIONS_KEY = "reelfactory:{queue}:durations"  # the last renders' seconds, newest first
ESTIMATE_EVERY = 2.0  # s between estimates of a waiting job's start

AlertHook = Callable[[str, RenderError], Awaitable[None]]


DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def open_queue(settings: Settings) -> FencedRedisQueue:
    redis = aioredis.from_url(settings.redis_url.get_secret_value() or DEFAULT_REDIS_URL)
    return FencedRedisQueue(redis, name=settings.render_queue_name)


class RedisRenderQueue:
    """Enqueues renders for ``reelfactory worker`` processes and waits for their result."""

    name = "redis"

    def __init__(
        self,
        queue: FencedRedisQueue,
        folder: SharedFolder,
        *,
        heartbeat: int,
        attempts: int,
        timeout: float,
        on_failed: AlertHook | None = None,
        poll: float = POLL,
    ) -> None:
        self.queue, self.folder = queue, folder
        self.heartbeat, self.attempts, self.timeout = heartbeat, attempts, timeout
        self.on_failed = on_failed
        self.poll = poll
        self._mine: dict[str, str] = {}  # job -> "queued" | "running", for this process
        self._demand = Demand()
        self._durations_key = DURATIONS_KEY.format(queue=queue.name)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisRenderQueue:
        return cls(
            open_queue(settings),
            SharedFolder(settings.data_dir),
            heartbeat=settings.render_heartbeat,
            attempts=settings.render_attempts,
            timeout=settings.render_timeout,
        )

    @property
    def running(self) -> frozenset[str]:
        return frozenset(job for job, state in self._mine.items() if state == "running")

    @property
    def demand(self) -> asyncio.Event:
        return self._demand.demand

    @property
    def idle(self) -> asyncio.Event:
        return self._demand.idle

    async def aclose(self) -> None:
        await self.queue.disconnect()

    async def render(
        self,
        job_id: str,
        spec: RenderSpec,
        settings: Settings,
        *,
        on_queue: QueueCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RenderResult:
        wire = await asyncio.to_thread(self.folder.export, job_id, spec)
        job = await self._enqueue(job_id, wire)
        self._track(job_id, "queued")
        try:
            done = await self._follow(job, on_queue, on_progress)
        except RenderError as exc:
            if self.on_failed is not None:
                await self.on_failed(job_id, exc)
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self._abort(job))
            raise
        finally:
            self._track(job_id, None)
        try:
            return await asyncio.to_thread(self._take, done, spec)
        finally:
            await asyncio.to_thread(self.folder.clean, job_id)

    async def _enqueue(self, job_id: str, wire: dict[str, Any]) -> Job:
        job = Job(
            FUNCTION,
            kwargs={"job_id": job_id, "spec": wire},
            key=job_id,
            # SAQ's own timeout is a backstop only: the heartbeat finds dead workers, and the
            # worker's render_timeout ends a stuck ffmpeg first.
            timeout=int(self.timeout) + 120,
            heartbeat=self.heartbeat,
            retries=self.attempts,
            ttl=3600,
        )
        enqueued = await self.queue.enqueue(job)
        if enqueued is not None:
            return enqueued
        # Already in line or rendering (this process restarted): follow that one.
        existing = await self.queue.job(job_id)
        if existing is None:
            raise RenderError(f"render {job_id} could not be queued", stage="render")
        logger.info("render %s: already queued as %s, following it", job_id, existing.status)
        return existing

    async def _follow(
        self, job: Job, on_queue: QueueCallback | None, on_progress: ProgressCallback | None
    ) -> Job:
        told: QueueStatus | None = None
        estimated = 0.0
        progress: float | None = None
        while True:
            try:
                current = await self.queue.job(job.key)
                if current is None:
                    raise RenderError(f"render {job.key} vanished from the queue", stage="render")
                job = current
                if job.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED):
                    return self._outcome(job)
                if job.status == Status.QUEUED:
                    self._track(job.key, "queued")
                    position = await self.position(job.key)
                    now = time.monotonic()
                    due = told is None or told.position != position or now - estimated > 10
                    if on_queue is not None and position > 0 and due:
                        told = await self.status(position)
                        estimated = now
                        await on_queue(told)
                elif job.status == Status.ACTIVE:
                    self._track(job.key, "running")
                    told = None
                    if on_progress is not None and job.progress != progress:
                        progress = job.progress
                        await on_progress(progress)
            except RedisError as exc:  # Redis restarting: the job is in its AOF, wait for it
                logger.warning("render %s: Redis unavailable (%s), retrying", job.key, exc)
            await asyncio.sleep(self.poll)

    def _outcome(self, job: Job) -> Job:
        if job.status == Status.COMPLETE:
            return job
        error = RenderError(
            f"render failed after {job.attempts} attempt(s) on workers: "
            f"{(job.error or 'unknown error').strip().splitlines()[-1]}",
            stage="render",
        )
        raise error

    def _take(self, job: Job, spec: RenderSpec) -> RenderResult:
        result: dict[str, Any] = job.result or {}
        self.folder.take(result["folder"], spec.out_path)
        reel = spec.out_path
        return RenderResult(
            path=reel,
            thumb=reel.with_name("thumb.jpg"),
            width=int(result["width"]),
            height=int(result["height"]),
            duration=float(result["duration"]),
            frames=int(result.get("frames", 0)),
            size_bytes=reel.stat().st_size,
            seconds=float(result.get("seconds", 0.0)),
            encoder=str(result.get("encoder", "libx264")),
        )

    async def _abort(self, job: Job) -> None:
        with contextlib.suppress(RedisError):
            current = await self.queue.job(job.key)
            if current is not None and current.status not in (Status.COMPLETE, Status.FAILED):
                await self.queue.abort(current, "cancelled")
        await asyncio.to_thread(self.folder.clean, job.key)

    async def position(self, job_id: str) -> int:
        """1.. while waiting in the shared line (1 = next, whichever worker takes it), 0 when
        not waiting."""
        queued = await _lrange(self.queue, self.queue._queued)
        wanted = self.queue.job_id(job_id).encode()
        return queued.index(wanted) + 1 if wanted in queued else 0

    async def status(self, position: int) -> QueueStatus:
        """The estimated start: the last renders' durations over the live workers' slots."""
        recent = await _lrange(self.queue, self._durations_key, 19)
        durations = Durations(float(seconds) for seconds in recent)
        active = await _lrange(self.queue, self.queue._active)
        now_ms = time.time() * 1000
        elapsed = []
        for job in await self.queue.jobs(
            self.queue.job_key_from_id(raw.decode()) for raw in active
        ):
            if job is not None and job.started:
                elapsed.append((now_ms - job.started) / 1000)
        info = await self.queue.info()
        slots = sum(
            int((worker.get("metadata") or {}).get("slots", 1))
            for worker in info["workers"].values()
        )
        return QueueStatus(position, durations.eta(position, elapsed, max(slots, 1)))

    def _track(self, job_id: str, state: str | None) -> None:
        if state is None:
            self._mine.pop(job_id, None)
        else:
            self._mine[job_id] = state
        self._demand.update(bool(self._mine))


async def record_duration(queue: FencedRedisQueue, seconds: float) -> None:
    key = DURATIONS_KEY.format(queue=queue.name)
    async with queue.redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, f"{seconds:.3f}")
        pipe.ltrim(key, 0, 19)
        await pipe.execute()


async def _lrange(queue: FencedRedisQueue, key: str, last: int = -1) -> list[bytes]:
    values: list[bytes] = await queue.redis.lrange(key, 0, last)  # type: ignore[misc]
    return values


__all__ = ["RedisRenderQueue", "open_queue", "record_duration"]
