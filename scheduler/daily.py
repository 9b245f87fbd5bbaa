"""One day's trending reels: for every destination of ``REELFACTORY_DAILY_DESTINATIONS``,
``daily_count`` reels, each made and posted exactly once per (date, destination, slot).

Destinations of one language share their topics and their reels: topics are picked once per
(language, day) (``pick_fresh``) and slot N of a language is one job (key
``daily:<date>:<lang>:<slot>``) that ``Studio.make`` renders once and posts to each of them.
The claims live in ``daily_posts`` (``storage.daily``): a run claims every slot it still
lacks before any work; a slot left ``claimed`` or ``made`` by a stopped run is resumed
through its job (same topic, finished from its last stage, and never posted twice: the
deliveries table); a failed one is taken again by the next run; a posted one never is.

A destination that fails (the bot is not in the channel, no permission) does not stop the
others; it is alerted and retried at the next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.adapters.trends import Picked, TrendChain, context_of, credit, pick_fresh
from pipeline.alerts import Alerter, Cause, Kind
from pipeline.delivery import Deliverer
from pipeline.destinations import Destination, parse_destinations
from pipeline.errors import ProviderError
from pipeline.logs import job_context
from pipeline.moderation import Refused
from pipeline.ports import Trend
from pipeline.share import write_channel
from pipeline.studio import SYSTEM_OWNER, JobRecord, Made, Studio
from storage import DailyKey, DailyPostRepository

logger = logging.getLogger(__name__)

TRENDS = "trends"
# How many times the topics are asked for again when moderation refused some of them.
MODERATION_ROUNDS = 4
FRONT = "scheduler"


def job_key(day: date, language: str, slot: int) -> str:
    """The job that makes slot ``slot`` of ``day`` for every destination in ``language``."""
    return f"daily:{day.isoformat()}:{language}:{slot}"


@dataclass(slots=True)
class DayReport:
    day: date
    posted: list[str] = field(default_factory=list)  # "<destination>#<slot>" posted by this run
    already: int = 0  # slots posted by earlier runs
    failed: dict[str, str] = field(default_factory=dict)  # "<destination>#<slot>" -> why
    topics: dict[str, list[str]] = field(default_factory=dict)  # language -> topics (dry run)

    @property
    def complete(self) -> bool:
        """Every destination has its reels, made now or before."""
        return not self.failed


def _name(key: DailyKey) -> str:
    return f"{key.destination}#{key.slot}"


class DailyRun:
    def __init__(
        self,
        studio: Studio,
        deliverer: Deliverer,
        chain: TrendChain,
        *,
        alerter: Alerter | None = None,
        destinations: Sequence[Destination] | None = None,
    ) -> None:
        self.studio = studio
        self.app = studio.app
        self.settings = studio.app.settings
        self.deliverer = deliverer
        self.chain = chain
        self.alerter = alerter
        self.destinations = (
            list(destinations)
            if destinations is not None
            else parse_destinations(self.settings.daily_destinations)
        )
        self.posts = DailyPostRepository(self.app.db)

    def by_language(self) -> dict[str, list[Destination]]:
        groups: dict[str, list[Destination]] = defaultdict(list)
        for destination in self.destinations:
            groups[destination.language].append(destination)
        return dict(groups)

    async def preview(self, day: date) -> DayReport:
        """The topics the run of ``day`` would pick, per language; nothing is claimed."""
        report = DayReport(day)
        for language in self.by_language():
            picked = await self._pick(day, language, self.settings.daily_count)
            report.topics[language] = [trend.title for trend in picked.trends]
        return report

    async def run(self, day: date) -> DayReport:
        """Make and post what ``day`` still lacks. Its log lines say ``front=scheduler``."""
        with job_context(front=FRONT):
            return await self._run(day)

    async def _run(self, day: date) -> DayReport:
        report = DayReport(day)
        count = self.settings.daily_count
        for language, group in self.by_language().items():
            wanted = [(d.key, slot) for slot in range(count) for d in group]
            lacking = await self.posts.lacking(day, wanted)
            report.already += len(wanted) - len(lacking)
            if lacking:
                await self._language(day, language, lacking, report)
        logger.info(
            "daily %s: %d posted now, %d before, %d failed",
            day,
            len(report.posted),
            report.already,
            len(report.failed),
        )
        return report

    async def _language(
        self, day: date, language: str, lacking: list[DailyKey], report: DayReport
    ) -> None:
        slots = sorted({key.slot for key in lacking})
        jobs = {slot: await self.app.jobs.by_key(job_key(day, language, slot)) for slot in slots}
        need = [slot for slot in slots if jobs[slot] is None]
        trends: dict[int, Trend] = {}
        if need:
            try:
                picked = await self._pick(day, language, len(need))
            except ProviderError as exc:
                for key in lacking:
                    if key.slot in need:
                        await self._failed(key, language, exc, report)
                if self.alerter is not None:
                    await self.alerter.report(
                        Cause.of(Kind.DAILY, exc, stage=TRENDS),
                        message=f"no topic for {language}: {exc}",
                    )
                return
            else:
                trends = dict(zip(need, picked.trends, strict=False))
        for slot in slots:
            keys = [key for key in lacking if key.slot == slot]
            await self._slot(day, language, slot, keys, jobs[slot], trends.get(slot), report)

    async def _pick(self, day: date, language: str, count: int) -> Picked:
        """``count`` fresh topics that moderation lets through: a refused one is skipped for
        the next (asked for again, one more for each refused)."""
        refused: set[str] = set()
        wanted = count
        for _ in range(MODERATION_ROUNDS):
            picked = await self._fresh(day, language, wanted)
            kept: list[Trend] = []
            for trend in picked.trends:
                if len(kept) == count:
                    break
                if trend.title not in refused and await self._allowed(trend):
                    kept.append(trend)
                else:
                    refused.add(trend.title)
            if len(kept) == count or len(picked.trends) < wanted:
                break  # enough, or the sources have no more
            wanted = count + len(refused)
        picked.trends = kept
        return picked

    async def _allowed(self, trend: Trend) -> bool:
        text = f"{trend.title}\n{trend.extract}".strip()
        try:
            await self.studio.moderation.check(text, kind="trend", owner=SYSTEM_OWNER)
        except Refused as refusal:
            logger.warning("daily: trend %r skipped: %s", trend.title, refusal)
            return False
        return True

    async def _fresh(self, day: date, language: str, count: int) -> Picked:
        picked = await pick_fresh(
            self.chain,
            self.posts,
            day,
            language=language,
            count=count,
            repeat_days=self.settings.daily_repeat_days,
        )
        if self.alerter is not None:
            for failure in picked.failures:
                await self.alerter.report(
                    Cause.of(Kind.FALLBACK, failure, stage=TRENDS), message=str(failure)
                )
            if not picked.fell_back:
                await self.alerter.recovered(Kind.FALLBACK, stage=TRENDS)
        return picked

    async def _slot(
        self,
        day: date,
        language: str,
        slot: int,
        keys: list[DailyKey],
        job: JobRecord | None,
        trend: Trend | None,
        report: DayReport,
    ) -> None:
        claimed = []
        for key in keys:
            post, _ = await self.posts.claim(key, language=language)
            if not post.done:
                claimed.append(key)
        if not claimed:
            return
        if job is None and trend is None:
            for key in claimed:
                await self.posts.mark_failed(key, "no fresh trending topic today")
                report.failed[_name(key)] = "no fresh trending topic today"
            return
        topic = job.topic if job is not None else trend.title  # type: ignore[union-attr]
        source = trend.source if trend is not None else None

        async def attach(made: JobRecord) -> None:
            for key in claimed:
                await self.posts.attach_job(key, made.id, topic=topic, source=source)

        try:
            made = await self.studio.make(
                topic,
                language=language,
                destinations=[key.destination for key in claimed],
                deliverer=self.deliverer,
                owner=SYSTEM_OWNER,
                key=job_key(day, language, slot),
                context=context_of(trend) if trend is not None else None,
                facts={"credit": credit(trend)} if trend is not None else None,
                drafted=attach,
            )
        except Exception as exc:
            logger.warning("daily %s %s#%d failed: %s", day, language, slot, exc)
            for key in claimed:
                await self._failed(key, language, exc, report)
            if self.alerter is not None:
                await self.alerter.report(
                    Cause.of(Kind.DAILY, exc),
                    message=f"{language} slot {slot} for {len(claimed)} destination(s): {exc}",
                )
            return
        await attach(made.job)
        await self._settle(made, claimed, language, report)

    async def _settle(
        self, made: Made, claimed: list[DailyKey], language: str, report: DayReport
    ) -> None:
        """Record what ``make`` posted and alert what it could not."""
        for key in claimed:
            await self.posts.mark_made(key)
            if key.destination in made.posted:
                await self.posts.mark_posted(key)
                report.posted.append(_name(key))
                await self._channel_page(key.destination)
                continue
            error = made.failed[key.destination]
            await self._failed(key, language, error, report)
            if self.alerter is not None:
                platform = key.destination.partition(":")[0]
                await self.alerter.report(
                    Cause.of(Kind.DELIVERY, error, stage="deliver", provider=platform),
                    job_id=made.job.id,
                    message=f"{key.destination}: {error}",
                )
        if self.alerter is None:
            return
        await self.alerter.recovered(Kind.DAILY)
        failed_on = {destination.partition(":")[0] for destination in made.failed}
        for platform in {key.destination.partition(":")[0] for key in claimed} - failed_on:
            await self.alerter.recovered(Kind.DELIVERY, provider=platform)

    async def _channel_page(self, destination: str) -> None:
        """Rewrite the destination's share page; a failure there does not undo the post."""
        try:
            url = await write_channel(
                self.app.runner.store,
                self.app.db,
                destination,
                self.settings.data_dir / "pages",
            )
        except Exception as exc:
            logger.warning("channel page of %s not written: %s", destination, exc)
        else:
            logger.info("channel page of %s: %s", destination, url)

    async def _failed(
        self, key: DailyKey, language: str, exc: BaseException, report: DayReport
    ) -> None:
        await self.posts.claim(key, language=language)
        await self.posts.mark_failed(key, f"{type(exc).__name__}: {exc}")
        report.failed[_name(key)] = f"{type(exc).__name__}: {exc}"


__all__ = ["DailyRun", "DayReport", "job_key"]
