"""/language, /voice and /style: per-user settings, stored by the studio."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from locales import ENDONYMS, Translator, negotiate, translator
from pipeline.catalog import STYLES
from pipeline.studio import NARRATION_LANGUAGES, UI_LANGUAGES, Preferences, Studio, voice_label

from .. import keyboards
from ..callbacks import DEFAULT, Setting, SettingChoice
from .common import say

logger = logging.getLogger(__name__)


def _language_view(prefs: Preferences, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    text = say(
        t,
        "settings.language",
        ui=ENDONYMS.get(t.locale, t.locale),
        narration=ENDONYMS.get(prefs.language, prefs.language),
    )
    builder = InlineKeyboardBuilder()
    for code in UI_LANGUAGES:
        tick = "✓ " if code == t.locale else ""
        builder.button(
            text=f"{tick}🖥 {ENDONYMS[code]}",
            callback_data=SettingChoice(setting=Setting.UI_LANGUAGE, value=code),
        )
    for code in NARRATION_LANGUAGES:
        tick = "✓ " if code == prefs.language else ""
        builder.button(
            text=f"{tick}🎙 {ENDONYMS.get(code, code)}",
            callback_data=SettingChoice(setting=Setting.LANGUAGE, value=code),
        )
    builder.adjust(len(UI_LANGUAGES), 3)
    return text, builder.as_markup()


def _voice_view(
    prefs: Preferences, t: Translator, studio: Studio
) -> tuple[str, InlineKeyboardMarkup]:
    current = voice_label(prefs.voice) or t("settings.voice_default")
    text = say(
        t, "settings.voice", language=ENDONYMS.get(prefs.language, prefs.language), voice=current
    )
    options = keyboards.voice_options(studio.voice_options(prefs.language), t)
    return text, keyboards.choices(Setting.VOICE, options, prefs.voice)


def _style_view(prefs: Preferences, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    text = say(t, "settings.style", style=t(f"style.{prefs.style}"))
    options = [(name, t(f"style.{name}")) for name in STYLES]
    return text, keyboards.choices(Setting.STYLE, options, prefs.style, per_row=1)


async def language(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    text, markup = _language_view(await studio.preferences(owner), t)
    await message.answer(text, reply_markup=markup)


async def voice(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    text, markup = _voice_view(await studio.preferences(owner), t, studio)
    await message.answer(text, reply_markup=markup)


async def style(message: Message, t: Translator, studio: Studio, owner: str) -> None:
    text, markup = _style_view(await studio.preferences(owner), t)
    await message.answer(text, reply_markup=markup)


async def choose(
    query: CallbackQuery,
    callback_data: SettingChoice,
    bot: Bot,
    t: Translator,
    studio: Studio,
    owner: str,
) -> None:
    setting, value = callback_data.setting, callback_data.value
    field = {
        Setting.UI_LANGUAGE: "ui_language",
        Setting.LANGUAGE: "language",
        Setting.VOICE: "voice",
        Setting.STYLE: "style",
    }[setting]
    prefs = await studio.update_preferences(owner, **{field: None if value == DEFAULT else value})
    if setting is Setting.UI_LANGUAGE:
        t = translator(negotiate(prefs.ui_language))
    await query.answer(t("settings.saved"))
    if setting in (Setting.UI_LANGUAGE, Setting.LANGUAGE):
        text, markup = _language_view(prefs, t)
    elif setting is Setting.VOICE:
        text, markup = _voice_view(prefs, t, studio)
    else:
        text, markup = _style_view(prefs, t)
    if query.message is not None:
        await bot.edit_message_text(
            text=text,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=markup,
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(language, Command("language"))
    router.message.register(voice, Command("voice"))
    router.message.register(style, Command("style"))
    router.callback_query.register(choose, SettingChoice.filter(F.setting.in_(set(Setting))))
    return router
