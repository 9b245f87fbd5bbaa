"""The user's own music: an audio file sent while a reel is reviewed plays under its voice."""

from __future__ import annotations

import io
import logging

from aiogram import Bot, F, Router
from aiogram.types import Message

from locales import Translator
from pipeline.errors import InputError
from pipeline.studio import Studio

from .common import say

logger = logging.getLogger(__name__)


async def track(message: Message, bot: Bot, t: Translator, studio: Studio, owner: str) -> None:
    sent = message.audio or message.document
    assert sent is not None
    name = getattr(sent, "file_name", None) or "track"
    limit = studio.settings.fetch_max_bytes
    if sent.file_size is not None and sent.file_size > limit:
        raise InputError(
            f"track of {sent.file_size} bytes",
            code="error.music_file",
            params={"limit": limit >> 20},
        )
    buffer = io.BytesIO()
    await bot.download(sent, destination=buffer)
    job = await studio.set_music(owner, None, name, buffer.getvalue())
    await message.answer(say(t, "music.set", name=name))
    logger.info("job %s: own track from chat %s", job.id, message.chat.id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(track, F.audio | F.document)
    return router
