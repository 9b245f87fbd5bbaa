"""The render queue: a port with two adapters.

Rendering is the one CPU-bound stage. ``RenderQueue`` is what the render stage talks to; it
renders a ``RenderSpec`` somewhere and tells the job its place in line meanwhile:

- ``LocalRenderQueue`` (the default): in this process, a semaphore with a visible FIFO. x264
  already uses both cores, so running two renders at once only makes both slower.
- ``pipeline.adapters.saq_render.RedisRenderQueue`` (``REELFACTORY_RENDER_BACKEND=redis``):
  ``reelfactory worker`` processes on any machine take the renders from a SAQ queue on Redis.

Both report a ``QueueStatus`` (position, 1 = next, and an estimated start from the last renders'
durations) whenever the line moves, and both keep ``demand``: an ``asyncio.Event`` set while any
real render of this process waits or runs. Low-priority work (speculative pre-renders) awaits
``idle`` before it starts and watches ``demand`` to stop at once when a real render arrives.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .models import RenderSpec

if TYPE_CHECKING:
    from .render import RenderResult
    from .settings import Settings

RECENT_RENDERS = 20  # durations the estimate is taken from


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """A waiting render's place: ``position`` 1 is next; ``eta`` the estimated seconds until it
    starts (None until a render has finished to estimate from)."""

    position: int
    eta: float | None = None


QueueCallback = Callable[[QueueStatus], Awaitable[None]]
ProgressCallback = Callable[[float], Awaitable[None]]
PositionCallback = Callable[[int], Awaitable[None]]  # the bare ``slot`` API


class RenderQueue(Protocol):
    """Where renders run. ``render`` calls ``on_queue`` while the render waits (each time the
    line moves), ``on_progress(0.0)`` when it starts, then its progress; it returns when
    ``spec.out_path`` and its thumbnails (``thumb.jpg``, ``thumb-small.jpg`` beside it) exist.
    Cancelling it leaves the line at once."""

    name: str

    @property
    def running(self) -> frozenset[str]: ...

    @property
    def demand(self) -> asyncio.Event: ...

    @property
    def idle(self) -> asyncio.Event: ...

    async def render(
        self,
        job_id: str,
        spec: RenderSpec,
        settings: Settings,
        *,
        on_queue: QueueCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RenderResult: ...

    async def aclose(self) -> None: ...


class Durations:
    """Recent render durations, and the estimate of a waiting render's start they give."""

    def __init__(self, recent: Iterable[float] = (), size: int = RECENT_RENDERS) -> None:
        self._seconds: deque[float] = deque(recent, maxlen=size)

    def add(self, seconds: float) -> None:
        self._seconds.append(max(0.0, seconds))

    @property
    def typical(self) -> float | None:
        return statistics.median(self._seconds) if self._seconds else None

    def eta(self, position: int, elapsed: Iterable[float], slots: int) -> float | None:
        """Seconds until the render at ``position`` starts: what the running renders have left
        plus the renders ahead of it, shared out over ``slots``."""
        typical = self.typical
        if typical is None:
            return None
        left = sum(max(typical - seconds, 0.0) for seconds in elapsed)
        return (left + (position - 1) * typical) / max(slots, 1)


class Demand:
    """``demand`` is set while anything waits or runs, ``idle`` the rest of the time."""

    def __init__(self) -> None:
        self.demand, self.idle = asyncio.Event(), asyncio.Event()
        self.idle.set()

    def update(self, busy: bool) -> None:
        if busy:
            self.idle.clear()
            self.demand.set()
        else:
            self.demand.clear()
            self.idle.set()


class LocalRenderQueue:
    """In-process renders: ``slots`` at a time, the rest wait in arrival order."""

    name = "local"

    def __init__(self, slots: int = 1, durations: Durations | None = None) -> None:
        if slots < 1:
            raise ValueError("a render queue needs at least one slot")
        self._slots = slots
        self._running: dict[str, float] = {}  # job -> when it started (monotonic)
        self._waiting: deque[tuple[str, asyncio.Future[None]]] = deque()
        self._listeners: dict[str, QueueCallback] = {}
        self.durations = durations or Durations()
        self._demand = Demand()

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    @property
    def demand(self) -> asyncio.Event:
        return self._demand.demand

    @property
    def idle(self) -> asyncio.Event:
        return self._demand.idle

    def position(self, job_id: str) -> int:
        """0 while rendering, 1.. while waiting (1 = next), -1 when unknown."""
        if job_id in self._running:
            return 0
        for index, (waiting_id, _) in enumerate(self._waiting, start=1):
            if waiting_id == job_id:
                return index
        return -1

    def status(self, position: int) -> QueueStatus:
        now = time.monotonic()
        elapsed = [now - started for started in self._running.values()]
        return QueueStatus(position, self.durations.eta(position, elapsed, self._slots))

    async def render(
        self,
        job_id: str,
        spec: RenderSpec,
        settings: Settings,
        *,
        on_queue: QueueCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> RenderResult:
        from .workers.rendering import render_spec

        async with self.waiting(job_id, on_queue):
            started = time.monotonic()
            if on_progress is not None:
                await on_progress(0.0)
            result = await render_spec(spec, settings, job_id=job_id, on_progress=on_progress)
            self.durations.add(time.monotonic() - started)
            return result

    async def aclose(self) -> None:
        return None

    @asynccontextmanager
    async def slot(
        self, job_id: str, on_position: PositionCallback | None = None
    ) -> AsyncIterator[None]:
        """Hold a render slot (waiting for it in line); ``on_position`` hears the position."""

        async def positions(status: QueueStatus) -> None:
            assert on_position is not None
            await on_position(status.position)

        async with self.waiting(job_id, positions if on_position is not None else None):
            yield

    @asynccontextmanager
    async def waiting(
        self, job_id: str, on_queue: QueueCallback | None = None
    ) -> AsyncIterator[None]:
        if len(self._running) < self._slots and not self._waiting:
            self._start(job_id)
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((job_id, future))
            self._demand.update(True)
            if on_queue is not None:
                self._listeners[job_id] = on_queue
                await on_queue(self.status(len(self._waiting)))
            try:
                await future
            except asyncio.CancelledError:
                self._forget(job_id, future)
                await self._tell_positions()
                raise
            finally:
                self._listeners.pop(job_id, None)
        try:
            yield
        finally:
            self._running.pop(job_id, None)
            await self._advance()

    def _start(self, job_id: str) -> None:
        self._running[job_id] = time.monotonic()
        self._demand.update(True)

    def _forget(self, job_id: str, future: asyncio.Future[None]) -> None:
        try:
            self._waiting.remove((job_id, future))
        except ValueError:
            # Already handed the slot just as we were cancelled: pass it on.
            self._running.pop(job_id, None)
            self._wake_next()
        self._demand.update(bool(self._running or self._waiting))

    def _wake_next(self) -> None:
        while self._waiting and len(self._running) < self._slots:
            job_id, future = self._waiting.popleft()
            if future.done():
                continue
            self._start(job_id)
            future.set_result(None)

    async def _advance(self) -> None:
        self._wake_next()
        self._demand.update(bool(self._running or self._waiting))
        await self._tell_positions()

    async def _tell_positions(self) -> None:
        for index, (job_id, _) in enumerate(list(self._waiting), start=1):
            listener = self._listeners.get(job_id)
            if listener is not None:
                await listener(self.status(index))
