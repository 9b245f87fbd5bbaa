"""Picture work shared between jobs: a limit on concurrent work whose waiters are served by
tier first (a job's first candidates, which its contact sheet waits for, before anyone's
alternates). First candidates go in the order the jobs first asked, so the earliest approval's
sheet is finished first instead of every sheet finishing late together; alternates go
round-robin between jobs.

Which job and tier a piece of work belongs to is carried by a context variable, set where
the work starts (``pipeline.stages.images``) and read where it queues (``pipeline.fetch``),
so the adapters between them need not pass it along. Work without one is its own job at
tier ``FIRST``.

``scene_turn`` is the outer gate: one scene's search and downloads, as a whole. Taking the
turn before the provider call starts matters: its timeout (60 s) then counts the work, not
the wait behind fifty other jobs' scenes (without it, under load, hundreds of calls timed out
in the queue and were retried). Alternates pass a narrower gate first, so a slow one (a
15 MB download) never holds every turn a first picture could take.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .concurrency import PerLoop

FIRST = 0  # what a person waits for now: the first candidate of every scene
ALTERNATE = 1  # what may come later: the other candidates
SCENES_AT_ONCE = 24  # scenes searching and downloading at once, in the whole process
ALTERNATES_AT_ONCE = 3  # of which alternates

_anonymous = itertools.count()


@dataclass(frozen=True, slots=True)
class Work:
    job: str
    tier: int


_current: ContextVar[Work | None] = ContextVar("picture_work", default=None)


@contextmanager
def working_for(job: str, tier: int) -> Iterator[None]:
    """Picture work started inside the block counts as ``job``'s, at ``tier``."""
    token = _current.set(Work(job, tier))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> Work:
    return _current.get() or Work(f"anonymous-{next(_anonymous)}", FIRST)


class FairGate:
    """At most ``slots`` held at once; see the module's docstring for who goes next. A holder
    may take several slots (an encoder using two cores takes two); the next in line is never
    overtaken while it waits for enough of them to be free."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self.slots = slots
        self._held = 0
        # tier -> job -> its waiters, oldest first; the jobs' order is the rotation.
        self._waiting: dict[int, OrderedDict[str, deque[asyncio.Future[None]]]] = {}
        self._weights: dict[asyncio.Future[None], int] = {}

    @property
    def held(self) -> int:
        return self._held

    def waiting(self) -> int:
        return sum(len(q) for jobs in self._waiting.values() for q in jobs.values())

    @asynccontextmanager
    async def slot(self, work: Work | None = None, *, weight: int = 1) -> AsyncIterator[None]:
        weight = max(1, min(weight, self.slots))
        await self._acquire(work or current(), weight)
        try:
            yield
        finally:
            self._release(weight)

    async def _acquire(self, work: Work, weight: int) -> None:
        if self._held + weight <= self.slots and not self.waiting():
            self._held += weight
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        jobs = self._waiting.setdefault(work.tier, OrderedDict())
        jobs.setdefault(work.job, deque()).append(future)
        self._weights[future] = weight
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(weight)  # granted as it was cancelled: pass the slots on
            else:
                self._forget(work, future)
                self._grant()  # it may have held back smaller waiters behind it
            raise

    def _release(self, weight: int) -> None:
        self._held -= weight
        self._grant()

    def _grant(self) -> None:
        while (head := self._head()) is not None:
            tier, job, future = head
            weight = self._weights[future]
            if self._held + weight > self.slots:
                return  # the next in line waits for room; nobody behind it overtakes
            self._take(tier, job)
            self._held += weight
            future.set_result(None)

    def _head(self) -> tuple[int, str, asyncio.Future[None]] | None:
        """The next waiter to serve (tier, job, future), without taking it off the queue."""
        for tier in sorted(self._waiting):
            jobs = self._waiting[tier]
            while jobs:
                job, queue = next(iter(jobs.items()))
                while queue and queue[0].done():  # cancelled, not yet forgotten
                    self._weights.pop(queue.popleft(), None)
                if queue:
                    return tier, job, queue[0]
                del jobs[job]
            del self._waiting[tier]
        return None

    def _take(self, tier: int, job: str) -> None:
        jobs = self._waiting[tier]
        queue = jobs[job]
        self._weights.pop(queue.popleft(), None)
        if not queue:
            del jobs[job]
        elif tier != FIRST:
            jobs.move_to_end(job)  # its next turn comes after every other job's
        if not jobs:
            del self._waiting[tier]

    def _forget(self, work: Work, future: asyncio.Future[None]) -> None:
        self._weights.pop(future, None)
        jobs = self._waiting.get(work.tier)
        queue = jobs.get(work.job) if jobs is not None else None
        if queue is None or jobs is None:
            return
        if future in queue:
            queue.remove(future)
        if not queue:
            del jobs[work.job]
        if not jobs:
            del self._waiting[work.tier]


_turns = PerLoop(lambda: (FairGate(SCENES_AT_ONCE), FairGate(ALTERNATES_AT_ONCE)))


@asynccontextmanager
async def scene_turn() -> AsyncIterator[None]:
    """A turn for one scene's picture work, by the current work's tier and job."""
    scenes, alternates = _turns.get()
    work = current()
    if work.tier == FIRST:
        async with scenes.slot(work):
            yield
    else:
        async with alternates.slot(work), scenes.slot(work):
            yield
