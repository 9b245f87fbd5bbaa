"""/start and /help."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from locales import Translator

from .common import say

logger = logging.getLogger(__name__)


async def start(message: Message, t: Translator, state: FSMContext) -> None:
    await state.clear()
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(say(t, "start.telegram", name=name))


async def help_(message: Message, t: Translator) -> None:
    await message.answer(say(t, "help.telegram"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    return router
