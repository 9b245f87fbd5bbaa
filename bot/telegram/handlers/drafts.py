"""Starting a job: a topic (plain text or /new), or the user's own narration (/script)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from locales import Translator
from pipeline.studio import MAX_SCENE_CHARS, MAX_SCENES, Started, Studio, message_key

from ..keyboards import force_reply
from ..progress import chat_action
from ..states import Flow
from .common import say, show_script

logger = logging.getLogger(__name__)

FRONT = "telegram"
PLAIN_TEXT = F.text & ~F.text.startswith("/")


def _key(message: Message) -> str:
    return message_key(FRONT, message.chat.id, message.message_id)


async def _shown(started: Started, bot: Bot, t: Translator, studio: Studio) -> None:
    if not started.fresh:
        # The same message again (a redelivered update): its job is already on screen.
        logger.info("job %s: duplicate trigger ignored", started.job.id)
        return
    await show_script(bot, started.job, t, studio)


async def _draft(
    message: Message, topic: str, bot: Bot, t: Translator, studio: Studio, owner: str
) -> None:
    async with chat_action(bot, message.chat.id):
        started = await studio.draft(owner, topic, _key(message), chat_id=str(message.chat.id))
    await _shown(started, bot, t, studio)


async def new(
    message: Message,
    command: CommandObject,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
    state: FSMContext,
) -> None:
    await state.clear()
    if not command.args:
        await message.answer(say(t, "draft.ask_topic"))
        return
    await _draft(message, command.args, bot, t, studio, owner)


async def topic(message: Message, bot: Bot, t: Translator, studio: Studio, owner: str) -> None:
    assert message.text is not None
    await _draft(message, message.text, bot, t, studio, owner)


async def script(
    message: Message,
    command: CommandObject,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
    state: FSMContext,
) -> None:
    if not command.args:
        await state.set_state(Flow.narrating)
        await message.answer(
            say(t, "script.ask", scenes=MAX_SCENES, limit=MAX_SCENE_CHARS),
            reply_markup=force_reply(t("script.placeholder")),
        )
        return
    await state.clear()
    started = await studio.own_script(
        owner, command.args, _key(message), chat_id=str(message.chat.id)
    )
    await _shown(started, bot, t, studio)


async def narration(
    message: Message, bot: Bot, t: Translator, studio: Studio, owner: str, state: FSMContext
) -> None:
    assert message.text is not None
    started = await studio.own_script(
        owner, message.text, _key(message), chat_id=str(message.chat.id)
    )
    await state.clear()
    await _shown(started, bot, t, studio)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(new, Command("new"))
    router.message.register(script, Command("script"))
    router.message.register(narration, Flow.narrating, PLAIN_TEXT)
    router.message.register(topic, StateFilter(None), PLAIN_TEXT)
    return router
