"""The hands-off path: ``Studio.make`` drafts, approves itself, takes the first image of each
scene, renders, publishes and posts to every destination it was given, with nobody pressing a
button. ``reelfactory make`` and the daily run both go through it.

It is the same durable job as a chat job (a row, its stage runs, its work folder), so a stopped
process resumes it: calling ``make`` again with the same ``key`` finds the job and finishes it
from its last finished stage. One render serves several destinations; each is claimed in the
deliveries table under its own name and posted at most once (``pipeline.delivery``).

System owners (``scheduler:…``) are exempt from per-user limits, not from the global cap
``DAILY_MAX_REELS`` on the reels they start per UTC day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from storage import DuplicateJob, JobRecord
from storage.jobs_queries import JobQueries

from ..alerts import Alerter
from ..app import App
from ..delivery import Deliverer, deliver
from ..errors import DraftFailed, NoWriter, ProviderError, QuotaExceeded, ReelError, StaleJob
from ..limits import day_start
from ..models import JobState, StageTiming
from ..moderation import Moderation
from ..ports import ProgressCallback
from ..runner import Production
from ..scriptwriting import topic_context
from ..stages.script import check_topic
from .drafting import write_script

logger = logging.getLogger(__name__)

SYSTEM_OWNER = "scheduler:daily"
# Daily reels count against the cap whatever happened to them, except a cancel.
_CAPPED = tuple(str(state) for state in JobState if state not in (JobState.CANCELLED,))
_DONE = frozenset({JobState.QUEUED, JobState.PRODUCING, JobState.DELIVERED})

Drafted = Callable[[JobRecord], Awaitable[None]]


@dataclass(slots=True)
class Made:
    """What ``make`` did: the job, its production, and per destination whether it has the
    reel now (posted by this call or an earlier one) or why not."""

    job: JobRecord
    production: Production
    posted: list[str] = field(default_factory=list)
    failed: dict[str, ReelError | Exception] = field(default_factory=dict)
    timings: list[StageTiming] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed


def origin_of(owner: str) -> str:
    """``cli`` for the command line, ``scheduled`` for every other system owner: both take
    one image per scene (``pipeline.resume.candidates_for``)."""
    return "cli" if owner.partition(":")[0] == "cli" else "scheduled"


class Making:
    """Mixed into ``Studio``; uses its ``app``, ``settings``, ``clock`` and ``draft_seconds``."""

    app: App
    draft_seconds: int
    clock: Callable[[], datetime]
    # Where failures are reported to the admins; ``serve`` sets it.
    alerter: Alerter | None = None
    moderation: Moderation

    async def make(
        self,
        topic: str,
        *,
        language: str,
        destinations: Sequence[str],
        deliverer: Deliverer,
        owner: str = SYSTEM_OWNER,
        context: str | None = None,
        key: str | None = None,
        facts: dict[str, str] | None = None,
        style: str | None = None,
        seconds: int | None = None,
        progress: ProgressCallback | None = None,
        drafted: Drafted | None = None,
    ) -> Made:
        """Make one reel on ``topic`` and post it to each of ``destinations`` (names the
        ``deliverer`` understands: ``telegram:<chat>``, ``discord:<channel>``, ``cli``).

        ``key`` makes it idempotent: the job it names is resumed, not made twice. ``context``
        is the trend's background for the script writer, kept on the job for a redraft after
        a restart; ``facts`` too (e.g. the caption's credit line). ``drafted`` runs between
        the draft and the render. A failed destination does not stop the others: it is in
        ``Made.failed`` and the job is left failed, so the same call later posts only there.
        """
        app = self.app
        job = await app.jobs.by_key(key) if key else None
        if job is None:
            topic = check_topic(topic)
            await self.moderation.check_topic(topic, owner=owner)
            job = await self._new_made_job(
                topic, language, owner, key, style, destinations, context, facts
            )
        if job.state == JobState.CANCELLED:
            raise StaleJob(f"job {job.id} was cancelled")
        timings: list[StageTiming] = []
        async with app.runner.exclusive(job.id):
            job = await self._drafted(job, seconds or self.draft_seconds, timings)
            if drafted is not None:
                await drafted(job)
            production = await app.runner.produce(job.id, progress, candidates=1)
            job = await self._current(job.id)
            made = Made(job, production, timings=timings)
            for destination in destinations:
                try:
                    await deliver(
                        app, job, production.published, deliverer, destination=destination
                    )
                except Exception as exc:
                    logger.warning("job %s: not posted to %s: %s", job.id, destination, exc)
                    made.failed[destination] = exc
                else:
                    made.posted.append(destination)
            if made.failed:
                reasons = "; ".join(f"{d}: {e}" for d, e in made.failed.items())
                await app.jobs.set_state(
                    job.id, JobState.FAILED, error=f"not posted: {reasons}"[:2000]
                )
            else:
                await app.jobs.set_state(job.id, JobState.DELIVERED)
            made.job = await self._current(job.id)
            return made

    async def _new_made_job(
        self,
        topic: str,
        language: str,
        owner: str,
        key: str | None,
        style: str | None,
        destinations: Sequence[str],
        context: str | None,
        facts: dict[str, str] | None,
    ) -> JobRecord:
        app, settings = self.app, self.app.settings
        origin = origin_of(owner)
        if origin == "scheduled" and settings.daily_max_reels is not None:
            now = self.clock()
            since = day_start(now)
            made = await app.jobs.count_since(owner, since, states=_CAPPED)
            if made >= settings.daily_max_reels:
                raise QuotaExceeded(
                    f"{owner} made {made} reels today, the cap (DAILY_MAX_REELS) is "
                    f"{settings.daily_max_reels}",
                    limit=settings.daily_max_reels,
                    reset=since + timedelta(days=1),
                )
        job_id = app.jobs.new_id()
        record = JobRecord(
            id=job_id,
            state=JobState.DRAFTING,
            language=language,
            style=style or settings.default_style,
            voice=settings.default_voice if language == settings.default_language else None,
            work_dir=str(app.work_dir(job_id)),
            origin=origin,
            owner_id=owner,
            idempotency_key=key,
            topic=topic,
        )
        try:
            job = await app.jobs.create(record)
        except DuplicateJob as duplicate:  # a racing call made it first
            return duplicate.job
        await self._remember(
            job.id,
            {"destinations": list(destinations), "context": context or "", **(facts or {})},
        )
        return job

    async def _remember(self, job_id: str, facts: dict[str, object]) -> None:
        queries = JobQueries(self.app.db)
        current = await queries.deliver_to(job_id) or {}
        await queries.set_deliver_to(job_id, {**current, **facts})

    async def _drafted(self, job: JobRecord, seconds: int, timings: list[StageTiming]) -> JobRecord:
        """The job with a script, drafted now if it has none (a new job, or one whose draft a
        stop or an outage cut short), and out of any failed state."""
        app = self.app
        if job.script is None:
            if not app.providers.writers:
                raise NoWriter("no script writer is configured")
            context = str((await JobQueries(app.db).deliver_to(job.id) or {}).get("context", ""))
            await app.jobs.set_state(job.id, JobState.DRAFTING)
            try:
                with topic_context(context):
                    script = await write_script(app, job, seconds=seconds, timings=timings)
                await self.moderation.check_script(
                    script, kind="draft", owner=job.owner_id, job_id=job.id
                )
            except BaseException as exc:
                error = "interrupted" if isinstance(exc, asyncio.CancelledError) else str(exc)
                await asyncio.shield(app.jobs.set_state(job.id, JobState.FAILED, error=error))
                if isinstance(exc, ProviderError):
                    raise DraftFailed(f"no script writer answered: {exc}") from exc
                raise
            await app.jobs.update(job.id, script=script.model_dump(mode="json"))
            await app.jobs.set_state(job.id, JobState.QUEUED)
        elif JobState(job.state) not in _DONE:
            await app.jobs.set_state(job.id, JobState.QUEUED)  # approved: nobody reviews
        return await self._current(job.id)

    async def _current(self, job_id: str) -> JobRecord:
        job = await self.app.jobs.get(job_id)
        if job is None:
            raise ReelError(f"no job {job_id}", code="error.job_missing")
        return job


__all__ = ["SYSTEM_OWNER", "Made", "Making", "origin_of"]
