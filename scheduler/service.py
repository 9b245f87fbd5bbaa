"""The scheduler, the third front of ``serve``: APScheduler 3's ``AsyncIOScheduler`` in the
bot's loop, as a clock only. What ran is kept in our own tables (``daily_posts``), never in
APScheduler's job store, so a restart neither repeats a day nor loses one.

- the daily run at ``DAILY_TIME`` in ``TIMEZONE`` (``CronTrigger``, ``coalesce``,
  ``max_instances=1``, a grace of hours rather than the default second);
- at start-up, a run missed while the process was down is caught up once, when its time is
  still within the grace window (the daily table says what the day lacks);
- the admins' summary at ``SUMMARY_TIME``; cleanup of old work folders and caches daily.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from pipeline.adapters.trends import TrendChain, build_trend_chain
from pipeline.alerts import Alerter, Cause, Kind
from pipeline.cleanup import cleanup
from pipeline.delivery import Deliverer
from pipeline.studio import Studio
from pipeline.summary import build_summary, format_summary

from .daily import DailyRun, DayReport


class Health(Protocol):
    """Where the scheduler says it runs (``bot.health.Health``)."""

    def expect(self, name: str, *, reports_itself: bool = False) -> None: ...
    def up(self, name: str) -> None: ...
    def down(self, name: str, reason: str = "") -> None: ...


logger = logging.getLogger(__name__)

NAME = "scheduler"  # its part in bot.health
GRACE = timedelta(hours=6)
READY_TIMEOUT = 60.0
CLEANUP_TIME = time(4, 30)

Ready = Callable[[], Awaitable[object]]


def last_due(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The latest moment at ``at`` (local) that is not after ``now``."""
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), at, tzinfo=tz)
    return due if due <= local else datetime.combine(local.date() - timedelta(days=1), at, tz)


class Scheduler:
    def __init__(
        self,
        studio: Studio,
        deliverer: Deliverer,
        *,
        alerter: Alerter | None = None,
        ready: Sequence[Ready] = (),
        chain: TrendChain | None = None,
        grace: timedelta = GRACE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        health: Health | None = None,
    ) -> None:
        self.studio = studio
        self.settings = studio.app.settings
        self.deliverer = deliverer
        self.alerter = alerter
        self.ready = list(ready)
        self.grace = grace
        self.clock = clock
        self.tz = ZoneInfo(self.settings.timezone)
        self._chain = chain
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()
        self.runs: list[DayReport] = []
        self.running = False
        self.scheduler: AsyncIOScheduler | None = None
        self.last_daily: datetime | None = None  # when the last daily run ended
        self.health = health
        if health is not None:
            health.expect(NAME, reports_itself=True)

    async def run(self, stop: asyncio.Event) -> None:
        chain = self._chain or build_trend_chain(self.settings)
        self.chain = chain
        scheduler = self.scheduler = AsyncIOScheduler(timezone=self.tz)
        common = {
            "replace_existing": True,
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(self.grace.total_seconds()),
        }
        if self.settings.daily_destinations:
            scheduler.add_job(
                self.fire_daily, self._cron(self.settings.daily_time), id="daily", **common
            )
        scheduler.add_job(
            self.send_summary, self._cron(self.settings.summary_time), id="summary", **common
        )
        scheduler.add_job(self.clean, self._cron(CLEANUP_TIME), id="cleanup", **common)
        scheduler.start()
        self.running = True
        if self.health is not None:
            self.health.up(NAME)
        try:
            if self.settings.daily_destinations:
                due = last_due(self.clock(), self.settings.daily_time, self.tz)
                if self.clock() - due <= self.grace:
                    logger.info("scheduler: catching up the daily run of %s", due.date())
                    self._spawn(self.fire_daily(due.date()))
            await stop.wait()
        finally:
            self.running = False
            if self.health is not None:
                self.health.down(NAME, "stopped")
            scheduler.shutdown(wait=False)
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if self._chain is None:
                await chain.aclose()
            logger.info("scheduler stopped")

    def next_run(self, job_id: str = "daily") -> datetime | None:
        job = self.scheduler.get_job(job_id) if self.scheduler is not None else None
        return job.next_run_time if job is not None else None

    def _cron(self, at: time) -> CronTrigger:
        return CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=self.tz)

    def _spawn(self, work: Awaitable[object]) -> None:
        async def run() -> object:
            return await work

        task: asyncio.Task[object] = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _track(self, work: Awaitable[object]) -> object:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await work
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def fire_daily(self, day: date | None = None) -> DayReport | None:
        """One daily run (the cron's, or the catch-up's); never two at once."""
        day = day or self.clock().astimezone(self.tz).date()
        return await self._track(self._daily(day))  # type: ignore[return-value]

    async def _daily(self, day: date) -> DayReport | None:
        async with self._lock:
            try:
                for ready in self.ready:
                    await asyncio.wait_for(ready(), READY_TIMEOUT)
                run = DailyRun(self.studio, self.deliverer, self.chain, alerter=self.alerter)
                report = await run.run(day)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_daily = self.clock()
                logger.exception("scheduler: the daily run of %s failed", day)
                if self.alerter is not None:
                    await self.alerter.report(Cause.of(Kind.DAILY, exc), message=str(exc))
                return None
            self.runs.append(report)
            self.last_daily = self.clock()
            return report

    async def send_summary(self) -> None:
        day = self.clock().astimezone(self.tz).date()
        await self._track(send_summary(self.studio, self.alerter, day))

    async def clean(self) -> None:
        app = self.studio.app
        try:
            report = await self._track(cleanup(app.settings, app.db))
            logger.info("scheduler: cleanup %s", report)
        except Exception:
            logger.exception("scheduler: cleanup failed")


async def send_summary(studio: Studio, alerter: Alerter | None, day: date) -> str:
    """The summary of ``day``, DMed to every admin through the alerter's notifier."""
    app = studio.app
    text = format_summary(
        await build_summary(app.db, app.settings, day, chains=app.providers.describe())
    )
    if alerter is None:
        return text
    if not alerter.admins:
        logger.warning("summary: no admin to send it to (set REELFACTORY_ADMINS)")
    for admin in alerter.admins:
        try:
            await alerter.notifier.send(admin, alerter.scrub(text))
        except Exception as exc:
            logger.warning("summary: DM to %s failed: %s", admin, type(exc).__name__)
    return text


__all__ = ["GRACE", "Scheduler", "last_due", "send_summary"]
