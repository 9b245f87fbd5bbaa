"""How late the event loop runs what is due: a probe that asks to wake every ``interval`` and
records by how much each wake-up came late. Anything that holds the loop (CPU work on it, a
blocking call) shows up as lag, and every press, reply and progress edit waits that long.

Used by the load benchmark (tests/bench.py) and exported on /metrics by ``serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque

logger = logging.getLogger(__name__)

INTERVAL = 0.02
KEEP = 30_000  # ten minutes of samples at the default interval


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: an observed value (0.0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class LoopLag:
    def __init__(self, interval: float = INTERVAL, keep: int = KEEP) -> None:
        self.interval = interval
        self.samples: deque[float] = deque(maxlen=keep)  # seconds late, newest last
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._probe(), name="loop-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> LoopLag:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def quantile(self, fraction: float) -> float:
        return percentile(list(self.samples), fraction)

    def reset(self) -> None:
        self.samples.clear()
        self.worst = 0.0

    async def _probe(self) -> None:
        while True:
            due = time.perf_counter() + self.interval
            await asyncio.sleep(self.interval)
            late = max(0.0, time.perf_counter() - due)
            self.samples.append(late)
            if late > self.worst:
                self.worst = late
                if late > 0.25:
                    logger.info("the event loop was held for %.0f ms", late * 1000)
