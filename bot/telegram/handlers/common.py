"""What several handlers share: catalog text made safe for HTML, and showing a script."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.presenters import HTML, script_text
from locales import Translator
from pipeline.studio import JobRecord, Studio

from .. import keyboards
from ..callbacks import ScriptAction, SheetAction

logger = logging.getLogger(__name__)


def say(t: Translator, key: str, /, **params: object) -> str:
    """A catalog message for HTML parse mode: the whole text escaped, parameters included."""
    return HTML.escape(t(key, **params))


async def drop_keyboard(bot: Bot, chat_id: int, message_id: int | None) -> None:
    """Take a step's buttons off its message. Cosmetic: a message gone or already bare is fine,
    and must not stop the step itself."""
    if message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramBadRequest as exc:
        logger.debug("keyboard of message %s not removed: %s", message_id, exc)


def message_id_of(query: CallbackQuery) -> int | None:
    return query.message.message_id if query.message is not None else None


def chat_of(job: JobRecord) -> int:
    assert job.chat_id is not None
    return int(job.chat_id)


async def show_script(
    bot: Bot,
    job: JobRecord,
    t: Translator,
    studio: Studio,
    *,
    message_id: int | None = None,
) -> Message | bool:
    """The script with its review buttons: a new message, or ``message_id`` edited in place
    (a new message when that one is gone)."""
    text = script_text(studio.script_of(job), t, HTML)
    markup = keyboards.script_review(job.id, t, can_rewrite=studio.has_writer)
    if message_id is not None:
        try:
            return await bot.edit_message_text(
                text=text, chat_id=chat_of(job), message_id=message_id, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            if "not modified" in str(exc):
                return True
    return await bot.send_message(chat_of(job), text, reply_markup=markup)


async def cancel(
    query: CallbackQuery,
    callback_data: ScriptAction | SheetAction,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    """Cancel, from the script review or the image review: the same rule either way."""
    await studio.authorize(owner, callback_data.job, "cancel")  # a refusal is the answer
    await query.answer(t("cancel.done"))
    job = await studio.cancel(owner, callback_data.job)
    await bot.send_message(chat_of(job), say(t, "cancel.done"))
    await drop_keyboard(bot, chat_of(job), message_id_of(query))
