"""Durable jobs: resuming what a stopped process left, delivering each job at most once, and
the idempotency keys that keep one trigger from making two jobs.

What a job needs to resume is on disk: its row (state, script, choices, where it goes), its
finished stage runs, and their artifacts in its work folder. ``resume_jobs`` picks up the jobs
left in ``producing`` or ``queued`` (a render was asked for), runs what is unfinished (see
``Runner.produce``) and hands each to the deliverer registered for its origin. Jobs waiting for
a person (drafting, script_review, images_review) stay as they are.

Delivery is at most once. A target (``delivery_target``) is claimed in the ``deliveries``
table before the deliverer posts, and confirmed after. A process that dies between the two
leaves a ``sending`` claim: the post may or may not have gone out, and it is never tried again
automatically; the job is marked failed with a message that says so. The trade-off: in that
rare window a user may get nothing rather than the same reel twice, and an admin can see why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from pathlib import Path

from storage import DeliveryRepository, JobRecord
from storage.jobs_queries import JobQueries

from .app import App
from .errors import ReelError
from .models import JobState
from .ports import ProgressCallback
from .runner import JobBusy, Production
from .stages.images import CANDIDATES_PER_SCENE

__all__ = [
    "CLI_OUTPUTS",
    "Deliverer",
    "DeliveryInterrupted",
    "NotSent",
    "RESUMABLE",
    "cli_deliverer",
    "cli_key",
    "deliver",
    "delivery_target",
    "message_key",
    "produce_and_deliver",
    "resume_jobs",
    "scheduled_key",
]

logger = logging.getLogger(__name__)

Deliverer = Callable[[JobRecord, Production], Awaitable[None]]
"""Posts a finished job where it belongs: ``(job, production)``, where ``production.result``
holds ``reel_url``, ``thumb_url``, ``prefix`` and ``duration`` and ``production.work`` the
files (``reel.mp4``, ``thumb.jpg``...). Return once posted. Raise ``NotSent`` when the platform
refused the post (nothing went out); any other exception means the outcome is unknown."""

RESUMABLE = (JobState.PRODUCING, JobState.QUEUED)
CLI_OUTPUTS = ("reel.mp4", "thumb.jpg", "subs.ass", "script.json", "timings.json")
# Jobs resumed side by side; renders queue anyway, this bounds the voice and image work.
RESUME_CONCURRENCY = 4


class NotSent(ReelError):
    """A deliverer's way to say the post surely did not go out (the platform answered with an
    error): the claim is released, so a later, deliberate retry may post."""

    code = "error.not_sent"


class DeliveryInterrupted(ReelError):
    """An earlier delivery to this target stopped half-way; it is not tried again."""

    code = "error.delivery_interrupted"


# --- idempotency keys: the same key never makes a second job (jobs.idempotency_key is UNIQUE)


def message_key(front: str, chat_id: str | int, message_id: str | int) -> str:
    """Chat jobs: the message that asked for the reel, e.g. ``telegram:42:1001``."""
    return f"{front}:{chat_id}:{message_id}"


def scheduled_key(day: date, topic: str) -> str:
    """Scheduled jobs: one per day and topic; case, spacing and Unicode forms do not count."""
    if isinstance(day, datetime):
        day = day.date()
    normal = " ".join(unicodedata.normalize("NFKC", topic).casefold().split())
    return f"scheduled:{day.isoformat()}:{hashlib.sha256(normal.encode()).hexdigest()[:24]}"


def cli_key(script: bytes, out: Path, *, style: str, voice: str | None, language: str) -> str:
    """``reelfactory render``: the script file's bytes, the output folder and the options that
    change the reel, so running the same command again after a crash resumes the same job."""
    digest = hashlib.sha256()
    for part in (script, str(out.resolve()).encode(), style.encode(), (voice or "").encode()):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(language.encode())
    return f"cli:{digest.hexdigest()[:32]}"


# --- delivery


def delivery_target(job: JobRecord) -> str:
    """The claim's name: ``telegram:<chat>``, ``discord:<channel>``, ``cli``, ``scheduled``."""
    return f"{job.origin}:{job.chat_id}" if job.chat_id else job.origin


def candidates_for(job: JobRecord) -> int:
    """Images per scene: a choice for people who review them, one where nobody does."""
    return 1 if job.origin in ("cli", "scheduled") else CANDIDATES_PER_SCENE


async def deliver(
    app: App,
    job: JobRecord,
    production: Production,
    deliverer: Deliverer,
    *,
    retry_unknown: bool = False,
) -> None:
    """Post ``job`` once through ``deliverer``, then mark it delivered.

    A target already confirmed is not posted again. One claimed but never confirmed (its
    process died mid-post) fails the job with DeliveryInterrupted, unless ``retry_unknown``:
    a person asking again (re-running ``render``) may accept a second post.
    """
    async with app.runner.exclusive(job.id):
        deliveries = DeliveryRepository(app.db)
        target = delivery_target(job)
        if not await deliveries.claim(job.id, target):
            earlier = next(d for d in await deliveries.for_job(job.id) if d.target == target)
            if earlier.state == "sent":
                await app.jobs.set_state(job.id, JobState.DELIVERED)
                return
            if not retry_unknown:
                when = f"{earlier.started_at:%Y-%m-%d %H:%M:%S}"
                error = DeliveryInterrupted(
                    f"delivery to {target} stopped half-way at {when} UTC; "
                    "it is not posted again (at most once)"
                )
                await app.jobs.set_state(job.id, JobState.FAILED, error=str(error))
                raise error
            await deliveries.release(job.id, target)
            await deliveries.claim(job.id, target)
        # Once the post has started, a shutdown must not cut in between the platform taking
        # it and our record of that: the post and its bookkeeping finish, then the
        # cancellation goes on. (A crash can still cut in: the claim then stays "sending".)
        posting = asyncio.ensure_future(_post(app, job, production, deliverer, target))
        try:
            await asyncio.shield(posting)
        except asyncio.CancelledError:
            await asyncio.wait([posting])
            if not posting.cancelled():
                posting.exception()  # seen: the cancellation is what goes on
            raise


async def _post(
    app: App, job: JobRecord, production: Production, deliverer: Deliverer, target: str
) -> None:
    deliveries = DeliveryRepository(app.db)
    try:
        await deliverer(job, production)
    except NotSent as exc:
        await deliveries.release(job.id, target)
        await app.jobs.set_state(job.id, JobState.FAILED, error=f"not delivered: {exc}")
        raise
    except Exception as exc:
        await app.jobs.set_state(
            job.id, JobState.FAILED, error=f"delivery outcome unknown: {exc}"[:2000]
        )
        raise
    await deliveries.confirm(job.id, target)
    await app.jobs.set_state(job.id, JobState.DELIVERED)


async def produce_and_deliver(
    app: App,
    job_id: str,
    deliverer: Deliverer,
    progress: ProgressCallback | None = None,
    *,
    candidates: int | None = None,
    retry_unknown: bool = False,
) -> Production:
    """Finish a job from its last finished stage and deliver it, holding it throughout."""
    async with app.runner.exclusive(job_id):
        job = await app.jobs.get(job_id)
        if job is None:
            raise ReelError(f"no job {job_id}", code="error.job_missing")
        count = candidates or candidates_for(job)
        production = await app.runner.produce(job_id, progress, candidates=count)
        published = await app.jobs.get(job_id)
        assert published is not None
        await deliver(app, published, production, deliverer, retry_unknown=retry_unknown)
        return production


async def resume_jobs(app: App, deliverers: Mapping[str, Deliverer]) -> list[str]:
    """Resume the jobs a stopped process left in ``producing`` or ``queued`` and deliver each
    through ``deliverers[job.origin]``; returns the ids of the jobs delivered.

    Jobs of an origin with no deliverer are left for a process that has one; jobs another
    process holds are skipped; a job that fails is marked failed and logged, and the others
    go on. Safe to call again: a delivered job is not touched.
    """
    waiting = await app.jobs.in_states(*RESUMABLE)
    chosen = []
    for job in waiting:
        if job.origin in deliverers:
            chosen.append(job)
        else:
            logger.info("job %s waits for a %r deliverer", job.id, job.origin)
    if not chosen:
        return []
    logger.info("resuming %d job(s)", len(chosen))
    limit = asyncio.Semaphore(RESUME_CONCURRENCY)

    async def one(job: JobRecord) -> bool:
        async with limit:
            return await _resume(app, job, deliverers[job.origin])

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(job)) for job in chosen]
    return [job.id for job, task in zip(chosen, tasks, strict=True) if task.result()]


async def _resume(app: App, job: JobRecord, deliverer: Deliverer) -> bool:
    try:
        async with app.runner.exclusive(job.id):
            current = await app.jobs.get(job.id)
            if current is None or current.state not in RESUMABLE:
                return False  # finished by someone else meanwhile
            await produce_and_deliver(app, job.id, deliverer)
            return True
    except JobBusy:
        logger.info("job %s is held by another process; not resumed here", job.id)
    except ReelError as exc:
        logger.warning("job %s could not be resumed: %s", job.id, exc)
    except Exception:
        logger.exception("job %s could not be resumed", job.id)
    return False


# --- the CLI's deliverer


def cli_deliverer(app: App) -> Deliverer:
    """Copies a job's outputs to the folder it was created with (``jobs.deliver_to.out``)."""
    queries = JobQueries(app.db)

    async def copy(job: JobRecord, production: Production) -> None:
        out = (await queries.deliver_to(job.id) or {}).get("out")
        if not out:
            logger.warning("job %s names no output folder; see %s", job.id, production.work)
            return
        await asyncio.to_thread(copy_outputs, production.work, Path(out))

    return copy


def copy_outputs(work: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in CLI_OUTPUTS:
        shutil.copyfile(work / name, out / name)
