"""CPU work off the loop (pipeline.cpu): in the pool's threads, at a lower priority."""

from __future__ import annotations

import os
import threading

import pytest

from pipeline import cpu


async def test_work_runs_in_a_pool_thread_below_the_loops_priority() -> None:
    loop_thread = threading.get_native_id()

    def where() -> tuple[int, int]:
        me = threading.get_native_id()
        return me, os.getpriority(os.PRIO_PROCESS, me)

    thread, niceness = await cpu.run(where)
    assert thread != loop_thread
    assert niceness == os.getpriority(os.PRIO_PROCESS, loop_thread) + cpu.NICENESS


async def test_errors_reach_the_caller() -> None:
    def fails() -> None:
        raise ValueError("bad picture")

    with pytest.raises(ValueError, match="bad picture"):
        await cpu.run(fails)
