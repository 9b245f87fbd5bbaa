"""Posting a finished reel: the video with its thumbnail and caption, or the link alone when
the file is over the Bot API's upload limit. Called through pipeline.resume, which claims the
delivery first so nothing is posted twice."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import BufferedInputFile, FSInputFile
from PIL import Image

from bot.presenters import HTML, reel_caption
from locales import Translator, negotiate, translator
from pipeline.models import Script
from pipeline.render import probe, resolve_ffmpeg
from pipeline.resume import Deliverer, NotSent
from pipeline.runner import Production
from pipeline.studio import Studio
from storage import JobRecord

from .progress import chat_action

logger = logging.getLogger(__name__)

UPLOAD_LIMIT = 50 * 1024 * 1024  # api.telegram.org; settings.telegram_upload_limit_mb overrides
THUMB_SIDE = 320  # Telegram's limit for a video's thumbnail
MB = 1024 * 1024


def thumbnail_jpeg(path: Path, side: int = THUMB_SIDE) -> bytes:
    """A JPEG no larger than ``side`` pixels either way (blocking: run it in a thread)."""
    with Image.open(path) as image:
        image.thumbnail((side, side))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def public_url(production: Production) -> str | None:
    url = production.result.get("reel_url")
    # A local store's file:// address means nothing in a chat.
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


class ReelPoster:
    def __init__(
        self,
        bot: Bot,
        studio: Studio,
        *,
        upload_limit: int = UPLOAD_LIMIT,
        ffmpeg: str | None = None,
    ) -> None:
        self.bot = bot
        self.studio = studio
        self.upload_limit = upload_limit
        self._ffmpeg = ffmpeg

    def speaking(self, t: Translator) -> Deliverer:
        """A deliverer that captions in ``t``'s language (the requester's, known at render)."""

        async def deliver(job: JobRecord, production: Production) -> None:
            await self.post(job, production, t)

        return deliver

    async def resumed(self, job: JobRecord, production: Production) -> None:
        """The deliverer for jobs resumed at start-up: the language comes from the user's
        stored choice, else the narration's."""
        await self.post(job, production, await self._translator(job))

    async def _translator(self, job: JobRecord) -> Translator:
        ui = (await self.studio.preferences(job.owner_id)).ui_language if job.owner_id else None
        return translator(negotiate(ui, job.language))

    async def post(self, job: JobRecord, production: Production, t: Translator) -> None:
        if job.chat_id is None or job.script is None:
            raise NotSent(f"job {job.id} has no chat to post to")
        chat_id = int(job.chat_id)
        script = Script.model_validate(job.script)
        url = public_url(production)
        caption = reel_caption(script, url, t, HTML)
        reel = production.work / "reel.mp4"
        size = reel.stat().st_size
        try:
            if size > self.upload_limit:
                if url is None:
                    raise NotSent(f"reel of job {job.id} is {size} bytes and has no public link")
                note = t("reel.too_big", size=round(size / MB), limit=round(self.upload_limit / MB))
                await self.bot.send_message(chat_id, f"{HTML.escape(note)}\n\n{caption}")
                return
            async with chat_action(self.bot, chat_id, ChatAction.UPLOAD_VIDEO):
                await self._send_video(chat_id, production, caption)
        except TelegramNetworkError:
            raise  # the post may have gone out: the outcome is unknown
        except TelegramAPIError as exc:
            raise NotSent(f"telegram refused the reel: {exc}") from exc
        logger.info("job %s: reel posted to chat %s", job.id, chat_id)

    async def _send_video(self, chat_id: int, production: Production, caption: str) -> None:
        reel = production.work / "reel.mp4"
        info = await probe(reel, binary=resolve_ffmpeg(self._ffmpeg))
        duration = info.duration or float(production.result.get("duration") or 0)
        thumb = await asyncio.to_thread(thumbnail_jpeg, production.work / "thumb.jpg")
        await self.bot.send_video(
            chat_id=chat_id,
            video=FSInputFile(reel, filename="reel.mp4"),
            width=info.width or 720,
            height=info.height or 1280,
            duration=max(1, round(duration)),
            supports_streaming=True,
            thumbnail=BufferedInputFile(thumb, filename="thumb.jpg"),
            caption=caption,
        )
