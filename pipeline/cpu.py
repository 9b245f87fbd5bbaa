"""CPU-bound work (Pillow decodes and resizes, contact sheets, synthesised sound) off the
event loop, in a small pool of threads that run at a lower priority than the loop.

Pillow and numpy release the GIL while they work, so these threads compete with the loop
for the cores, not for the GIL; on a busy machine the loop then waits for a core, and every
press and reply waits with it. Linux schedules threads on their own, so each thread of this
pool lowers its own priority (``NICENESS`` over the process's) when it starts: the loop runs
first, pictures next, and renders (niced further by the render queue) after both. As many
threads as cores: more would only hold more decoded pictures in memory at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

logger = logging.getLogger(__name__)

NICENESS = 5
P = ParamSpec("P")
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS)


def pool() -> ThreadPoolExecutor:
    """The process's CPU pool, made on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=os.cpu_count() or 2,
                thread_name_prefix="cpu",
                initializer=_lower_priority,
            )
        return _pool


async def run(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in the CPU pool; the loop goes on meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(pool(), partial(func, *args, **kwargs))
