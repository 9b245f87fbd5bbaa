from __future__ import annotations

import asyncio

import pytest

from pipeline.queue import LocalRenderQueue as RenderQueue


async def test_one_slot_runs_one_at_a_time_in_order() -> None:
    queue = RenderQueue(1)
    active = 0
    peak = 0
    order: list[str] = []
    positions: dict[str, list[int]] = {"b": [], "c": []}

    async def job(name: str) -> None:
        nonlocal active, peak

        async def seen(position: int) -> None:
            positions[name].append(position)

        async with queue.slot(name, seen):
            active += 1
            peak = max(peak, active)
            order.append(name)
            await asyncio.sleep(0.02)
            active -= 1

    first = asyncio.create_task(job("a"))
    await asyncio.sleep(0)
    await asyncio.gather(first, job("b"), job("c"))
    assert peak == 1
    assert order == ["a", "b", "c"]
    assert positions["b"] == [1]
    assert positions["c"][0] == 2 and positions["c"][-1] == 1


async def test_cancelled_waiter_leaves_the_queue() -> None:
    queue = RenderQueue(1)
    release = asyncio.Event()

    async def hold() -> None:
        async with queue.slot("a"):
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(queue.slot("b").__aenter__())
    await asyncio.sleep(0)
    assert queue.position("b") == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert queue.position("b") == -1
    release.set()
    await holder
    async with queue.slot("c"):
        assert queue.running == {"c"}


def test_needs_a_slot() -> None:
    with pytest.raises(ValueError):
        RenderQueue(0)


async def test_estimates_update_in_order_and_a_cancel_frees_the_place_at_once() -> None:
    from pipeline.queue import Durations, QueueStatus

    queue = RenderQueue(1, Durations([10.0, 10.0]))
    seen: dict[str, list[QueueStatus]] = {"b": [], "c": [], "d": []}
    release = asyncio.Event()
    assert queue.idle.is_set() and not queue.demand.is_set()

    async def hold() -> None:
        async with queue.waiting("a"):
            await release.wait()

    async def wait(name: str) -> None:
        async def record(status: QueueStatus) -> None:
            seen[name].append(status)

        async with queue.waiting(name, record):
            pass

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    assert queue.demand.is_set() and not queue.idle.is_set()
    waiters = {name: asyncio.create_task(wait(name)) for name in ("b", "c", "d")}
    await asyncio.sleep(0)
    assert [s.position for s in seen["d"]] == [3]
    waiters["c"].cancel()  # leaves at once: d moves up before anything renders
    with pytest.raises(asyncio.CancelledError):
        await waiters["c"]
    assert queue.position("d") == 2 and seen["d"][-1].position == 2
    release.set()
    await asyncio.gather(holder, waiters["b"], waiters["d"])
    positions = [s.position for s in seen["d"]]
    etas = [s.eta for s in seen["d"]]
    assert positions == [3, 2, 1]
    assert all(eta is not None for eta in etas)
    assert etas == sorted(etas, reverse=True)  # type: ignore[type-var]
    assert etas[0] is not None and etas[0] > 20.0  # two renders of ~10 s ahead, and one running
    assert queue.idle.is_set() and not queue.demand.is_set()
