"""/connect youtube, /disconnect youtube, and "Post to YouTube" under a delivered reel: the
press asks for the privacy (the user's last choice ticked), the choice uploads, and the
answer is the Shorts link. A second press answers with the same link. Refusals (another
user's reel, not linked, quota) go through the errors router like every other."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, ReplyParameters

from bot.presenters import HTML
from bot.youtube import (
    ASK,
    SERVICES,
    connect_text,
    disclosure_for,
    posted_text,
    privacy_options,
    told,
)
from locales import Translator
from pipeline.studio import BadButton, Studio
from pipeline.youtube import PRIVACY

from .. import keyboards
from ..callbacks import YouTubeAction

logger = logging.getLogger(__name__)


def _service(command: CommandObject) -> str | None:
    name = (command.args or "").strip().lower()
    if not name and len(SERVICES) == 1:  # /connect from the command menu
        return next(iter(SERVICES))
    return name if name in SERVICES else None


async def connect(
    message: Message, command: CommandObject, bot: Bot, t: Translator, studio: Studio, owner: str
) -> None:
    if _service(command) is None:
        await message.answer(HTML.escape(t("youtube.usage")))
        return
    chat_id = message.chat.id

    async def say(text: str) -> None:
        await bot.send_message(chat_id, HTML.escape(text))

    device = await studio.connect_youtube(owner, told(say, t))
    await message.answer(connect_text(device, t, HTML), disable_web_page_preview=True)


async def disconnect(
    message: Message, command: CommandObject, t: Translator, studio: Studio, owner: str
) -> None:
    if _service(command) is None:
        await message.answer(HTML.escape(t("youtube.usage")))
        return
    await studio.disconnect_youtube(owner)
    await message.answer(HTML.escape(t("youtube.disconnected")))


async def post(
    query: CallbackQuery,
    callback_data: YouTubeAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    job_id, privacy = callback_data.job, callback_data.privacy
    if privacy != ASK and privacy not in PRIVACY:
        raise BadButton(f"no privacy {privacy!r}")
    earlier = await studio.youtube_press(owner, job_id)  # owner, step, linked: or refused
    message = query.message if isinstance(query.message, Message) else None
    if earlier is not None:
        await query.answer()
        if message is not None:
            await message.answer(posted_text(earlier, t, HTML))
        return
    if privacy == ASK:
        await query.answer()
        if message is not None:
            current = await studio.youtube_privacy(owner)
            await message.answer(
                HTML.escape(t("youtube.ask_privacy")),
                reply_markup=keyboards.youtube_privacy(job_id, privacy_options(current, t)),
                reply_parameters=ReplyParameters(
                    message_id=message.message_id, allow_sending_without_reply=True
                ),
            )
        return
    await query.answer(t("youtube.uploading"))
    job = await studio.job(job_id)
    posted = await studio.post_youtube(
        owner, job_id, disclosure=disclosure_for(studio, job), privacy=privacy
    )
    text = posted_text(posted, t, HTML)
    if message is not None:
        await bot.edit_message_text(
            text=text, chat_id=message.chat.id, message_id=message.message_id
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(connect, Command("connect"))
    router.message.register(disconnect, Command("disconnect"))
    router.callback_query.register(post, YouTubeAction.filter())
    return router
