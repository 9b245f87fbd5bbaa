"""Per-user limits: drafts per hour (a sliding window) and renders per UTC day (a quota).

Limits count events in the database, so a restart forgets nothing. A limit of 0 or less means
"no limit". Admins are exempt; the studio decides who is one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from storage import UsageRepository

from .errors import QuotaExceeded, RateLimited

logger = logging.getLogger(__name__)

DRAFT, RENDER = "draft", "render"
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Allowance:
    allowed: bool
    used: int
    limit: int
    reset: datetime | None  # when one more becomes possible (None: nothing to wait for)


def sliding_window(
    events: Sequence[datetime], *, limit: int, window: timedelta, now: datetime
) -> Allowance:
    recent = sorted(moment for moment in events if moment > now - window)
    if limit <= 0 or len(recent) < limit:
        return Allowance(True, len(recent), limit, None)
    # One more is allowed once enough of the oldest events have left the window.
    return Allowance(False, len(recent), limit, recent[len(recent) - limit] + window)


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)


def daily_quota(events: Sequence[datetime], *, limit: int, now: datetime) -> Allowance:
    start = day_start(now)
    used = sum(1 for moment in events if moment >= start)
    if limit <= 0 or used < limit:
        return Allowance(True, used, limit, None)
    return Allowance(False, used, limit, start + timedelta(days=1))


def utc_now() -> datetime:
    return datetime.now(UTC)


class Limits:
    def __init__(
        self,
        usage: UsageRepository,
        *,
        drafts_per_hour: int,
        renders_per_day: int,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._usage = usage
        self.drafts_per_hour = drafts_per_hour
        self.renders_per_day = renders_per_day
        self._clock = clock
        # Check-then-record must not interleave for one user (two quick presses).
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def draft_allowance(self, owner: str) -> Allowance:
        now = self._clock()
        events = await self._usage.since(owner, DRAFT, now - HOUR)
        return sliding_window(events, limit=self.drafts_per_hour, window=HOUR, now=now)

    async def render_allowance(self, owner: str) -> Allowance:
        now = self._clock()
        events = await self._usage.since(owner, RENDER, day_start(now))
        return daily_quota(events, limit=self.renders_per_day, now=now)

    async def take_draft(self, owner: str, job_id: str | None = None) -> int:
        """Record one draft for ``owner`` or raise RateLimited; returns the event's id."""
        async with self._locks[owner]:
            allowance = await self.draft_allowance(owner)
            if not allowance.allowed:
                assert allowance.reset is not None
                raise RateLimited(
                    f"{owner} asked for {allowance.used} drafts in the last hour",
                    limit=allowance.limit,
                    reset=allowance.reset,
                )
            return await self._usage.add(owner, DRAFT, self._clock(), job_id)

    async def check_render(self, owner: str) -> None:
        """Raise QuotaExceeded if ``owner`` has no render left today; records nothing."""
        allowance = await self.render_allowance(owner)
        if not allowance.allowed:
            assert allowance.reset is not None
            raise QuotaExceeded(
                f"{owner} used {allowance.used} renders today",
                limit=allowance.limit,
                reset=allowance.reset,
            )

    async def take_render(self, owner: str, job_id: str | None = None) -> int:
        """Record one render for ``owner`` or raise QuotaExceeded; returns the event's id."""
        async with self._locks[owner]:
            await self.check_render(owner)
            return await self._usage.add(owner, RENDER, self._clock(), job_id)

    async def give_back(self, event_id: int) -> None:
        """Forget an event whose work failed on our side, so it does not count."""
        await self._usage.remove(event_id)
