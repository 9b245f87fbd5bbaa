"""/language, /voice and /style: the shared settings screens (``bot.preferences``) as inline
keyboards."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.preferences import Screen, Setting, choose, screen
from bot.presenters import HTML
from locales import Translator
from pipeline.studio import Studio

from ..callbacks import SettingChoice

logger = logging.getLogger(__name__)

PER_ROW = {Setting.LANGUAGE: None, Setting.VOICE: 2, Setting.STYLE: 1, Setting.MUSIC: 2}


def keyboard(view: Screen) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for option in view.options:
        builder.button(
            text=option.ticked,
            callback_data=SettingChoice(setting=option.setting, value=option.value),
        )
    per_row = PER_ROW[view.setting]
    if per_row is None:  # 7 interface, then 7 narration languages: 4 + 3 a row each
        builder.adjust(4, 3, repeat=True)
    else:
        builder.adjust(per_row)
    return builder.as_markup()


async def _show(
    message: Message, setting: Setting, t: Translator, studio: Studio, owner: str
) -> None:
    view = screen(setting, await studio.preferences(owner), t, HTML, studio)
    await message.answer(view.text, reply_markup=keyboard(view))


async def language(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    await _show(message, Setting.LANGUAGE, t, studio, owner)


async def voice(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    await _show(message, Setting.VOICE, t, studio, owner)


async def style(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    await _show(message, Setting.STYLE, t, studio, owner)


async def music(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    await _show(message, Setting.MUSIC, t, studio, owner)


async def chosen(
    query: CallbackQuery,
    callback_data: SettingChoice,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    prefs, t = await choose(studio, owner, callback_data.setting, callback_data.value, t)
    await query.answer(t("settings.saved"))
    if query.message is not None:
        view = screen(callback_data.setting, prefs, t, HTML, studio)
        await bot.edit_message_text(
            text=view.text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=keyboard(view),
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(language, Command("language"))
    router.message.register(voice, Command("voice"))
    router.message.register(style, Command("style"))
    router.message.register(music, Command("music"))
    router.callback_query.register(chosen, SettingChoice.filter(F.setting.in_(set(Setting))))
    return router
