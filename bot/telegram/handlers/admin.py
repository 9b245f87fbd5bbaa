"""/stats for admins: today's jobs, success rate, p50/p95 per stage."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.presenters import HTML, stats_text
from locales import Translator
from pipeline.studio import Studio

logger = logging.getLogger(__name__)


async def stats(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    await message.answer(stats_text(await studio.stats(owner), t, HTML))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stats, Command("stats"))
    return router
