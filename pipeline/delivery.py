"""Delivering a finished reel: what a front posts, decided once here, and at most once.

The pipeline decides the form of every post; a front only carries it out:

- ``VIDEO``: the file attached (it fits the platform's limit), the link in the caption;
- ``LINK``: the file is over the limit, so the public link alone, saying why;
- ``RESENT``: an earlier post of this reel was cut off mid-way (the process died after the
  platform may have taken the video, before we recorded it). The video is never sent a
  second time; a short message with the link makes sure the user gets the reel either way.

Delivery is at most once per target (``delivery_target``): the target is claimed in the
``deliveries`` table before the deliverer posts and confirmed after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storage import DeliveryRepository, JobRecord

from .artifacts import REEL, THUMB, THUMB_SMALL
from .errors import DeliveryInterrupted, NotSent
from .failpoints import failpoint
from .models import JobState

if TYPE_CHECKING:
    from .app import App

__all__ = [
    "Deliverer",
    "Post",
    "PostForm",
    "Published",
    "deliver",
    "delivery_target",
    "public_url",
]

logger = logging.getLogger(__name__)


def reel_state(job: JobRecord) -> JobState:
    """The job's state as its buttons see it: a job still ``producing`` whose reel is published
    (its result stored) is being delivered, and its post, buttons included, may already be in
    the chat before the ``delivered`` write: it counts as delivered."""
    state = JobState(job.state)
    if state == JobState.PRODUCING and job.result is not None:
        return JobState.DELIVERED
    return state


def public_url(url: object) -> str | None:
    """A link worth sending to a person: http(s). A local store's file:// address is not."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


@dataclass(frozen=True, slots=True)
class Published:
    """A finished reel: its files here, its public links, and what a platform needs to show
    it (size, dimensions, duration) without probing the file again."""

    job_id: str
    reel: Path
    thumb: Path
    thumb_small: Path  # at most 320 px a side
    url: str | None  # the public link (the share page, else the video), None for a local store
    thumb_url: str | None
    width: int
    height: int
    duration: float
    bytes: int
    credit: str | None = None  # the user's own music track, as the caption credits it
    video_url: str | None = None  # the public link of the MP4 itself
    page_url: str | None = None  # the public share page (pipeline.share), when there is one

    @classmethod
    def of(cls, job_id: str, work: Path, result: Mapping[str, Any]) -> Published:
        reel = work / REEL
        video_url = public_url(result.get("reel_url"))
        page_url = public_url(result.get("page_url"))
        size = result.get("bytes")
        if not isinstance(size, int):
            size = reel.stat().st_size if reel.is_file() else 0
        return cls(
            job_id=job_id,
            reel=reel,
            thumb=work / THUMB,
            thumb_small=work / THUMB_SMALL,
            url=page_url or video_url,
            thumb_url=public_url(result.get("thumb_url")),
            width=int(result.get("width") or 720),
            height=int(result.get("height") or 1280),
            duration=float(result.get("duration") or 0.0),
            bytes=size,
            credit=str(result["credit"]) if result.get("credit") else None,
            video_url=video_url,
            page_url=page_url,
        )


class PostForm(StrEnum):
    VIDEO = "video"
    LINK = "link"
    RESENT = "resent"


@dataclass(frozen=True, slots=True)
class Post:
    """One delivery for a front to carry out."""

    job: JobRecord
    published: Published
    interrupted: bool = False  # an earlier post was cut off: the link only
    # Where it goes when one reel serves several places (``telegram:<chat>``,
    # ``discord:<channel>``, ``cli``); None: the job's own chat.
    destination: str | None = None

    def form(self, limit: int) -> PostForm:
        """How to post, given the platform's upload limit for this destination (bytes)."""
        if self.interrupted:
            return PostForm.RESENT
        if self.published.bytes <= limit:
            return PostForm.VIDEO
        if self.published.url is None:
            raise NotSent(
                f"reel of job {self.job.id} is {self.published.bytes} bytes, over the "
                f"{limit}-byte limit, and has no public link"
            )
        return PostForm.LINK


Deliverer = Callable[[Post], Awaitable[None]]
"""Posts a finished job where it belongs. Return once posted. Raise ``NotSent`` when the
platform refused the post (nothing went out); any other exception means the outcome is
unknown."""


def delivery_target(job: JobRecord) -> str:
    """The claim's name: ``telegram:<chat>``, ``discord:<channel>``, ``cli``, ``scheduled``."""
    return f"{job.origin}:{job.chat_id}" if job.chat_id else job.origin


async def deliver(
    app: App,
    job: JobRecord,
    published: Published,
    deliverer: Deliverer,
    *,
    retry_unknown: bool = False,
    destination: str | None = None,
) -> None:
    """Post ``job`` once through ``deliverer``, then mark it delivered.

    A target already confirmed is not posted again. One claimed but never confirmed (its
    process died mid-post) gets the link alone (``PostForm.RESENT``); with no public link it
    fails with DeliveryInterrupted rather than risk a second video. ``retry_unknown``: a
    person asking again (re-running ``render``) accepts a second post.

    ``destination``: one of several places a job goes (``Studio.make``), claimed under that
    name; the job's state is then its caller's to set, once every destination is done.
    """
    settle = destination is None
    async with app.runner.exclusive(job.id):
        deliveries = DeliveryRepository(app.db)
        target = destination or delivery_target(job)
        interrupted = False
        if not await deliveries.claim(job.id, target):
            earlier = next(d for d in await deliveries.for_job(job.id) if d.target == target)
            if earlier.state == "sent":
                if settle:
                    await app.jobs.set_state(job.id, JobState.DELIVERED)
                return
            if not retry_unknown:
                if published.url is None:
                    when = f"{earlier.started_at:%Y-%m-%d %H:%M:%S}"
                    error = DeliveryInterrupted(
                        f"delivery to {target} stopped half-way at {when} UTC and the reel "
                        "has no public link; it is not posted again (at most once)"
                    )
                    if settle:
                        await app.jobs.set_state(job.id, JobState.FAILED, error=str(error))
                    raise error
                interrupted = True
                logger.warning("job %s: an earlier post was cut off; sending its link", job.id)
            await deliveries.release(job.id, target)
            await deliveries.claim(job.id, target)
        post = Post(job, published, interrupted=interrupted, destination=destination)
        # Once the post has started, a shutdown must not cut in between the platform taking
        # it and our record of that: the post and its bookkeeping finish, then the
        # cancellation goes on. (A crash can still cut in: the claim then stays "sending".)
        posting = asyncio.ensure_future(_post(app, post, deliverer, target, settle=settle))
        try:
            await asyncio.shield(posting)
        except asyncio.CancelledError:
            await asyncio.wait([posting])
            if not posting.cancelled():
                posting.exception()  # seen: the cancellation is what goes on
            raise


async def _post(app: App, post: Post, deliverer: Deliverer, target: str, *, settle: bool) -> None:
    deliveries = DeliveryRepository(app.db)
    job = post.job
    try:
        await deliverer(post)
    except NotSent as exc:
        await deliveries.release(job.id, target)
        if settle:
            await app.jobs.set_state(job.id, JobState.FAILED, error=f"not delivered: {exc}")
        raise
    except Exception as exc:
        if settle:
            await app.jobs.set_state(
                job.id, JobState.FAILED, error=f"delivery outcome unknown: {exc}"[:2000]
            )
        raise
    await deliveries.confirm(job.id, target)

    failpoint("delivered")  # crash tests: posted and recorded, the job not settled
    if settle:
        await app.jobs.set_state(job.id, JobState.DELIVERED)
