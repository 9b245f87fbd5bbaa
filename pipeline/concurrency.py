"""Small asyncio helpers shared across the project: running two jobs side by side, waiting
for clean-up through cancellations, one lock per key, and one object per event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

__all__ = ["KeyedLocks", "PerLoop", "both", "to_the_end"]

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")


async def both(first: Coroutine[Any, Any, A], second: Coroutine[Any, Any, B]) -> tuple[A, B]:
    """Run two jobs side by side. When one fails the other is cancelled and waited for, and
    the failure is raised as itself, not wrapped in an ExceptionGroup."""
    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            one = group.create_task(first)
            two = group.create_task(second)
    except BaseExceptionGroup as failures:
        failure = failures.exceptions[0]
        while isinstance(failure, BaseExceptionGroup):
            failure = failure.exceptions[0]
    if failure is not None:
        raise failure
    return one.result(), two.result()


async def to_the_end(work: Awaitable[A]) -> A:
    """Await ``work`` through any number of cancellations, then let a cancellation that came
    meanwhile go on. For what must finish before its caller leaves: reaping a killed process,
    a thread still writing into a folder about to be removed, a task killing its ffmpeg.
    ``work`` must end soon by itself."""
    future = asyncio.ensure_future(work)
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            if future.cancelled():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return future.result()


class KeyedLocks:
    """One lock per key (a job, a URL, a cache entry), dropped once nobody holds or waits for
    it: the mapping is weak, and a waiter holds a reference."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self.lock(key):
            yield


class PerLoop(Generic[T]):
    """One ``make()`` per running event loop, made on first use: asyncio primitives belong to
    the loop that made them, and a process may run several loops in turn (tests, the CLI)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        made = self._made.get(loop)
        if made is None:
            made = self._made[loop] = self._make()
        return made
