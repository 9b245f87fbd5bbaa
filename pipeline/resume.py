"""Durable jobs: resuming what a stopped process left, delivering each job at most once, and
the idempotency keys that keep one trigger from making two jobs.

What a job needs to resume is on disk: its row (state, script, choices, where it goes), its
finished stage runs, and their artifacts in its work folder. ``resume_jobs`` picks up the jobs
left in ``producing`` or ``queued`` (a render was asked for), runs what is unfinished (see
``Runner.produce``) and hands each to the deliverer registered for its origin. Jobs waiting for
a person (drafting, script_review, images_review) stay as they are.

Delivery is at most once (see ``pipeline.delivery``): a process that died mid-post leaves a
``sending`` claim, and the resumed job sends the reel's link in a short message instead of
the video, so the user gets the reel whichever way the kill fell.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from storage import JobRecord
from storage.jobs_queries import JobQueries

from . import dubbing
from .app import App
from .artifacts import CLI_OUTPUTS
from .delivery import Deliverer, Post, deliver
from .errors import JobBusy, ReelError
from .models import JobState
from .ports import ProgressCallback
from .runner import Production
from .stages.images import CANDIDATES_PER_SCENE

__all__ = [
    "RESUMABLE",
    "cli_deliverer",
    "cli_key",
    "message_key",
    "produce_and_deliver",
    "resume_jobs",
    "scheduled_key",
]

logger = logging.getLogger(__name__)

RESUMABLE = (JobState.PRODUCING, JobState.QUEUED)
# Jobs resumed side by side; renders queue anyway, this bounds the voice and image work.
RESUME_CONCURRENCY = 4


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


def candidates_for(job: JobRecord) -> int:
    """Images per scene: a choice for people who review them, one where nobody does."""
    return 1 if job.origin in ("cli", "scheduled") else CANDIDATES_PER_SCENE


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
        await dubbing.prepare(app, job, progress)  # a dub: its pictures, script and voice
        production = await app.runner.produce(job_id, progress, candidates=count)
        published = await app.jobs.get(job_id)
        assert published is not None
        await deliver(app, published, production.published, deliverer, retry_unknown=retry_unknown)
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

    async def copy(post: Post) -> None:
        work = post.published.reel.parent
        out = (await queries.deliver_to(post.job.id) or {}).get("out")
        if not out:
            logger.warning("job %s names no output folder; see %s", post.job.id, work)
            return
        await asyncio.to_thread(copy_outputs, work, Path(out))

    return copy


def copy_outputs(work: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in CLI_OUTPUTS:
        shutil.copyfile(work / name, out / name)
