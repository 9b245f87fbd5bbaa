"""Renders in the background: a progress message, the studio's production, then the reel.

A button press only queues the render and returns; the render runs as a task kept in the
front's Background set, so handlers stay fast while ffmpeg works and shutdown can cancel it
(the job stays ``producing`` and is resumed at the next start)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.presenters import HTML, ProgressBoard, error_text
from locales import Translator
from pipeline.errors import ReelError
from pipeline.studio import Studio
from storage import JobRecord

from .delivery import ReelPoster
from .progress import MIN_EDIT_INTERVAL, ProgressMessage
from .tasks import Background

logger = logging.getLogger(__name__)


class Productions:
    def __init__(
        self,
        bot: Bot,
        studio: Studio,
        poster: ReelPoster,
        background: Background,
        *,
        edit_interval: float = MIN_EDIT_INTERVAL,
    ) -> None:
        self.bot = bot
        self.studio = studio
        self.poster = poster
        self.background = background
        self.edit_interval = edit_interval

    def start(self, job: JobRecord, t: Translator) -> None:
        """Start the render of a queued job; returns at once."""
        self.background.spawn(self._run(job, t), name=f"render:{job.id}")

    async def _run(self, job: JobRecord, t: Translator) -> None:
        assert job.chat_id is not None
        chat_id = int(job.chat_id)
        board = ProgressBoard()  # the queue tells its position once the job waits in it
        try:
            message = await self.bot.send_message(chat_id, board.text(t, HTML))
        except TelegramAPIError as exc:
            # No progress to show is no reason not to make the reel.
            logger.warning("job %s: no progress message: %s", job.id, exc)
            progress = None
        else:
            progress = ProgressMessage(
                self.bot, chat_id, message.message_id, t, board=board, interval=self.edit_interval
            )
        try:
            await self.studio.produce(job.id, self.poster.speaking(t), progress)
        except asyncio.CancelledError:
            if progress is not None:
                await progress.stop()  # shutdown: the job resumes at the next start
            raise
        except Exception as exc:
            if isinstance(exc, ReelError):
                logger.warning("job %s failed: %s", job.id, exc)
            else:
                logger.exception("job %s failed unexpectedly", job.id)
            await self._failed(job, progress, error_text(exc, t), t)
        else:
            if progress is not None:
                await progress.close()

    async def _failed(
        self, job: JobRecord, progress: ProgressMessage | None, text: str, t: Translator
    ) -> None:
        if progress is not None:
            await progress.close(HTML.escape(t("progress.failed")))
        try:
            assert job.chat_id is not None
            await self.bot.send_message(int(job.chat_id), HTML.escape(text))
        except TelegramAPIError as exc:
            logger.warning("could not tell chat %s about job %s: %s", job.chat_id, job.id, exc)
