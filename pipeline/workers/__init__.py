"""Render work that may run elsewhere: the render itself (``rendering``), how its files travel
(``staging``: a shared folder, or ``blob_staging``: R2), and the configured render queue
(``build_render_queue``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..queue import LocalRenderQueue, RenderQueue
from ..settings import Settings
from .staging import SharedFolder, Staging

if TYPE_CHECKING:
    from ..alerts import Alerter
    from ..errors import RenderError


def build_render_queue(settings: Settings) -> RenderQueue:
    """``REELFACTORY_RENDER_BACKEND``: local (this process, the default) or redis (workers)."""
    if settings.render_backend == "redis":
        from ..adapters.saq_render import RedisRenderQueue

        return RedisRenderQueue.from_settings(settings)
    return LocalRenderQueue(settings.render_concurrency)


def build_staging(settings: Settings) -> Staging:
    """Through R2 when it is the blob store (``REELFACTORY_BLOB_STORE=r2``), else through the
    data folder the bot and its workers share."""
    if settings.blob_store == "r2":
        from ..adapters.r2 import R2BlobStore
        from .blob_staging import BlobStaging

        return BlobStaging(R2BlobStore.from_settings(settings), settings.data_dir)
    return SharedFolder(settings.data_dir)


def alert_failed_renders(queue: RenderQueue, alerter: Alerter) -> None:
    """A render that failed on every worker attempt (``render_attempts``) DMs the admins: one
    JOB_FAILED alert of the render stage, the same cause the failed job reports, so the admins
    get one message, not one per attempt or two per job. The local queue has no attempts to
    count: its failure is the job's, which the fronts report."""
    from ..alerts import Cause, Kind

    async def alert(job_id: str, exc: RenderError) -> None:
        await alerter.report(Cause.of(Kind.JOB_FAILED, exc), job_id=job_id, message=str(exc))

    if queue.name == "redis":
        from ..adapters.saq_render import RedisRenderQueue

        assert isinstance(queue, RedisRenderQueue)
        queue.on_failed = alert


__all__ = ["alert_failed_renders", "build_render_queue", "build_staging"]
