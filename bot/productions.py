"""Running a render in the background for any front: the progress message, the studio's
production and delivery, and the failure told in the user's language.

A front implements ``ReelFront`` (its markup, how to open a progress message in the job's
chat, how to tell that chat something, how to post a reel); ``Productions`` does the rest, so
both fronts run the same rules. Renders are tracked tasks: shutdown cancels them and their
jobs stay ``producing``, to resume at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from locales import Translator
from pipeline.alerts import Cause, Kind
from pipeline.delivery import Deliverer
from pipeline.errors import InputError, ReelError
from pipeline.logs import job_context
from pipeline.studio import JobRecord, Studio

from .presenters import Markup, ProgressBoard, error_text
from .progress import MIN_EDIT_INTERVAL, Edit, ProgressMessage
from .tasks import Background

logger = logging.getLogger(__name__)


class ReelFront(Protocol):
    markup: Markup

    async def open_progress(self, job: JobRecord, text: str) -> Edit | None:
        """Post the progress message in the job's chat; how to edit it, or None when it
        could not be posted (no progress to show is no reason not to make the reel)."""
        ...

    async def tell(self, job: JobRecord, text: str) -> None:
        """A message (already in the front's markup) to the job's chat; failures are logged."""
        ...

    def deliverer(self, t: Translator) -> Deliverer:
        """Posts the finished reel, captioned in ``t``'s language."""
        ...


class Productions:
    def __init__(
        self,
        studio: Studio,
        front: ReelFront,
        background: Background,
        *,
        edit_interval: float = MIN_EDIT_INTERVAL,
    ) -> None:
        self.studio = studio
        self.front = front
        self.background = background
        self.edit_interval = edit_interval

    def start(self, job: JobRecord, t: Translator) -> None:
        """Start the render of a queued job; returns at once."""
        self.background.spawn(self._run(job, t), name=f"render:{job.id}")

    async def _run(self, job: JobRecord, t: Translator) -> None:
        with job_context(job_id=job.id, front=job.origin):  # on every log line of the job
            await self._produce(job, t)

    async def _produce(self, job: JobRecord, t: Translator) -> None:
        m = self.front.markup
        board = ProgressBoard()  # the queue tells its position once the job waits in it
        edit = await self.front.open_progress(job, board.text(t, m))
        progress = (
            None
            if edit is None
            else ProgressMessage(edit, t, m, board=board, interval=self.edit_interval)
        )
        try:
            await self.studio.produce(job.id, self.front.deliverer(t), progress)
        except asyncio.CancelledError:
            if progress is not None:
                await progress.stop()  # shutdown: the job resumes at the next start
            raise
        except Exception as exc:
            if isinstance(exc, ReelError):
                logger.warning("job %s failed: %s", job.id, exc)
            else:
                logger.exception("job %s failed unexpectedly", job.id)
            if progress is not None:
                await progress.close(m.escape(t("progress.failed")))
            await self.front.tell(job, m.escape(error_text(exc, t)))
            if self.studio.alerter is not None and not isinstance(exc, InputError):
                await self.studio.alerter.report(
                    Cause.of(Kind.JOB_FAILED, exc), job_id=job.id, message=str(exc)
                )
        else:
            if progress is not None:
                await progress.close()
            if self.studio.alerter is not None:
                await self.studio.alerter.recovered(Kind.JOB_FAILED)
