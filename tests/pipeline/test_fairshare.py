"""Picture work shared fairly (pipeline.fairshare): first candidates before alternates,
round-robin between jobs, so contact sheets come in the order of approval."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from pipeline.app import App
from pipeline.fairshare import (
    ALTERNATE,
    ALTERNATES_AT_ONCE,
    FIRST,
    FairGate,
    Work,
    current,
    scene_turn,
    working_for,
)
from pipeline.models import ImageCandidate, Script
from pipeline.ports import ImageSource
from pipeline.providers import build_offline
from pipeline.settings import Settings
from pipeline.studio import Studio

ALICE, BOB = "telegram:1", "telegram:2"
PLAIN = "Octopuses have three hearts.\n\nTwo of them pump blood to the gills.\n\nBlue blood!"


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0)


async def _served(gate: FairGate, works: list[Work]) -> list[Work]:
    """Queue ``works`` behind a held slot, in this order; the order they are let through."""
    order: list[Work] = []
    blocker = Work("blocker", FIRST)

    async def one(work: Work) -> None:
        async with gate.slot(work):
            order.append(work)

    async with gate.slot(blocker):
        tasks = []
        for work in works:
            tasks.append(asyncio.create_task(one(work)))
            queued = len(tasks)
            await _until(lambda: gate.waiting() == queued)  # noqa: B023 - awaited right here
    await asyncio.gather(*tasks)
    return order


async def test_first_candidates_go_before_alternates_in_the_order_jobs_asked() -> None:
    a1, a2, a3 = (Work("a", FIRST) for _ in range(3))
    b1, b2 = Work("b", FIRST), Work("b", FIRST)
    late = Work("a", ALTERNATE)
    order = await _served(FairGate(1), [late, a1, a2, a3, b1, b2])
    # The earliest job's sheet is finished first, not every sheet late together.
    assert [(w.job, w.tier) for w in order] == [
        ("a", FIRST),
        ("a", FIRST),
        ("a", FIRST),
        ("b", FIRST),
        ("b", FIRST),
        ("a", ALTERNATE),
    ]
    assert order[:3] == [a1, a2, a3]  # a job's own work in order


async def test_alternates_take_turns_between_jobs() -> None:
    a1, a2, b1 = Work("a", ALTERNATE), Work("a", ALTERNATE), Work("b", ALTERNATE)
    order = await _served(FairGate(1), [a1, a2, b1])
    assert order == [a1, b1, a2]


async def test_a_cancelled_waiter_gives_its_turn_and_holds_no_slot() -> None:
    gate = FairGate(1)
    got: list[str] = []

    async def one(job: str) -> None:
        async with gate.slot(Work(job, FIRST)):
            got.append(job)

    async with gate.slot(Work("blocker", FIRST)):
        gone = asyncio.create_task(one("gone"))
        kept = asyncio.create_task(one("kept"))
        await _until(lambda: gate.waiting() == 2)
        gone.cancel()
        await asyncio.wait({gone})
        assert gate.waiting() == 1
    await kept
    assert got == ["kept"] and gate.held == 0 and gate.waiting() == 0


async def test_a_holder_of_two_slots_is_not_overtaken_while_it_waits_for_room() -> None:
    """An encoder using two cores takes two of two slots; a one-slot waiter queued behind it
    does not slip into the first freed slot, and the heavy one then runs alone."""
    gate = FairGate(2)
    running: list[str] = []
    seen: list[list[str]] = []

    async def one(job: str, weight: int, go: asyncio.Event) -> None:
        async with gate.slot(Work(job, FIRST), weight=weight):
            running.append(job)
            seen.append(sorted(running))
            await go.wait()
            running.remove(job)

    first, heavy, light = asyncio.Event(), asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(one("first", 1, first))]
    await _until(lambda: gate.held == 1)
    tasks.append(asyncio.create_task(one("heavy", 2, heavy)))
    await _until(lambda: gate.waiting() == 1)
    tasks.append(asyncio.create_task(one("light", 1, light)))
    await _until(lambda: gate.waiting() == 2)
    assert gate.held == 1  # a slot is free, but "light" is behind "heavy"
    first.set()
    await _until(lambda: "heavy" in running)
    assert running == ["heavy"] and gate.held == 2
    heavy.set()
    await _until(lambda: "light" in running)
    light.set()
    await asyncio.gather(*tasks)
    assert seen == [["first"], ["heavy"], ["light"]]
    assert gate.held == 0 and gate.waiting() == 0
    # Asking for more than there is takes them all, never waits forever.
    async with gate.slot(Work("huge", FIRST), weight=5):
        assert gate.held == 2


class ThroughGate:
    """The offline cards, each call taking a turn at ``gate`` as the job's picture work."""

    def __init__(self, inner: ImageSource, gate: FairGate) -> None:
        self.name, self.inner, self.gate = inner.name, inner, gate
        self.served: list[Work] = []
        self.alternates = asyncio.Event()  # alternates go to the gate once this is set
        self.alternates.set()
        # The last first picture of ``slow_job`` takes until ``finish`` is set (a slow
        # download): what a job does after its pictures then has all the time it needs.
        self.slow_job: str | None = None
        self.finish = asyncio.Event()

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        if current().tier == ALTERNATE:
            await self.alternates.wait()
        async with self.gate.slot():
            work = current()
            self.served.append(work)
            if work.job == self.slow_job and self.served.count(work) == len(script.scenes):
                await asyncio.wait_for(self.finish.wait(), 30)
            return await self.inner.candidates(script, scene, count, out_dir)


@pytest.fixture
async def gated(settings: Settings) -> AsyncIterator[tuple[App, ThroughGate]]:
    providers = build_offline(settings)
    source = ThroughGate(providers.images[-1], FairGate(1))
    providers.images[:] = [source]
    async with await App.open(settings, providers) as app:
        yield app, source


async def test_two_jobs_approved_in_order_get_their_sheets_in_order(
    gated: tuple[App, ThroughGate],
) -> None:
    app, source = gated
    studio = Studio(app)
    first = (await studio.own_script(ALICE, PLAIN, "a")).job
    second = (await studio.own_script(BOB, PLAIN, "b")).job
    sheets: list[str] = []
    source.slow_job = second.id

    async def approve(owner: str, job_id: str) -> None:
        job = await studio.approve(owner, job_id)
        assert (await studio.contact_sheet(job))[:2] == b"\xff\xd8"
        sheets.append(job_id)
        source.finish.set()

    async with source.gate.slot(Work("blocker", FIRST)):
        one = asyncio.create_task(approve(ALICE, first.id))
        await _until(lambda: source.gate.waiting() == 3)
        two = asyncio.create_task(approve(BOB, second.id))
        await _until(lambda: source.gate.waiting() == 6)
    await asyncio.gather(one, two)
    assert sheets == [first.id, second.id]
    firsts = [w.job for w in source.served if w.tier == FIRST]
    assert firsts == [first.id] * 3 + [second.id] * 3  # the first approved first
    await studio.preparations.aclose()


async def test_a_later_jobs_first_pictures_go_before_an_earlier_jobs_alternates(
    gated: tuple[App, ThroughGate],
) -> None:
    app, source = gated
    studio = Studio(app)
    first = (await studio.own_script(ALICE, PLAIN, "a")).job
    second = (await studio.own_script(BOB, PLAIN, "b")).job
    source.alternates.clear()
    await studio.approve(ALICE, first.id)  # its sheet; its alternates come after
    async with source.gate.slot(Work("blocker", FIRST)):
        source.alternates.set()
        await _until(lambda: source.gate.waiting() == 3)  # the first job's alternates wait
        approving = asyncio.create_task(studio.approve(BOB, second.id))
        await _until(lambda: source.gate.waiting() == 6)
    await approving
    await studio.preparations.ready(first.id)
    after = [(w.job, w.tier) for w in source.served[3:]]
    assert after[:3] == [(second.id, FIRST)] * 3
    assert [w for w in after if w[0] == first.id] == [(first.id, ALTERNATE)] * 3
    await studio.preparations.aclose()


async def test_alternates_never_take_every_scene_turn() -> None:
    held = asyncio.Event()
    inside: list[str] = []

    async def turn(job: str, tier: int) -> None:
        with working_for(job, tier):
            async with scene_turn():
                inside.append(f"{job}:{tier}")
                await held.wait()

    alternates = [asyncio.create_task(turn(f"a{n}", ALTERNATE)) for n in range(4)]
    await _until(lambda: len(inside) == ALTERNATES_AT_ONCE)
    first = asyncio.create_task(turn("b", FIRST))
    await _until(lambda: "b:0" in inside)  # a first picture still finds a turn at once
    assert len(inside) == ALTERNATES_AT_ONCE + 1  # the fourth alternate waits
    held.set()
    await asyncio.gather(first, *alternates)
    assert len(inside) == 5
