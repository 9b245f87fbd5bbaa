"""In-process render queue: a semaphore with a visible FIFO.

Rendering is the one CPU-bound stage; x264 already uses both cores, so running two renders at
once only makes both slower. Waiters are served strictly in arrival order and can see their
position, which the chat fronts show to users.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

PositionCallback = Callable[[int], Awaitable[None]]


class RenderQueue:
    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError("a render queue needs at least one slot")
        self._slots = slots
        self._running: set[str] = set()
        self._waiting: deque[tuple[str, asyncio.Future[None]]] = deque()
        self._listeners: dict[str, PositionCallback] = {}
        # Whether a real render waits or runs: speculative work runs only while none does.
        self._idle = asyncio.Event()
        self._idle.set()
        self._wanted = asyncio.Event()

    @property
    def busy(self) -> bool:
        return bool(self._running or self._waiting)

    async def idle(self) -> None:
        """Return once no real render waits or runs."""
        await self._idle.wait()

    async def wanted(self) -> None:
        """Return once a real render waits or runs."""
        await self._wanted.wait()

    def _changed(self) -> None:
        if self.busy:
            self._idle.clear()
            self._wanted.set()
        else:
            self._wanted.clear()
            self._idle.set()

    @property
    def running(self) -> frozenset[str]:
        return frozenset(self._running)

    def position(self, job_id: str) -> int:
        """0 while rendering, 1.. while waiting (1 = next), -1 when unknown."""
        if job_id in self._running:
            return 0
        for index, (waiting_id, _) in enumerate(self._waiting, start=1):
            if waiting_id == job_id:
                return index
        return -1

    @asynccontextmanager
    async def slot(
        self, job_id: str, on_position: PositionCallback | None = None
    ) -> AsyncIterator[None]:
        if len(self._running) < self._slots and not self._waiting:
            self._running.add(job_id)
            self._changed()
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((job_id, future))
            self._changed()
            if on_position is not None:
                self._listeners[job_id] = on_position
                await on_position(len(self._waiting))
            try:
                await future
            except asyncio.CancelledError:
                self._forget(job_id, future)
                raise
            finally:
                self._listeners.pop(job_id, None)
        try:
            yield
        finally:
            self._running.discard(job_id)
            self._changed()
            await self._advance()

    def _forget(self, job_id: str, future: asyncio.Future[None]) -> None:
        try:
            self._waiting.remove((job_id, future))
        except ValueError:
            # Already handed the slot just as we were cancelled: pass it on.
            self._running.discard(job_id)
            self._wake_next()
        self._changed()

    def _wake_next(self) -> None:
        while self._waiting and len(self._running) < self._slots:
            job_id, future = self._waiting.popleft()
            if future.done():
                continue
            self._running.add(job_id)
            future.set_result(None)
        self._changed()

    async def _advance(self) -> None:
        self._wake_next()
        for index, (job_id, _) in enumerate(list(self._waiting), start=1):
            listener = self._listeners.get(job_id)
            if listener is not None:
                await listener(index)
