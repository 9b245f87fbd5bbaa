"""Inline keyboards. Labels come from the catalogs; callback data carries ids only."""

from __future__ import annotations

import logging

from aiogram.types import ForceReply, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from locales import ENDONYMS, Translator

from .callbacks import (
    DubAction,
    EditScene,
    ScriptAction,
    ScriptStep,
    SheetAction,
    SheetStep,
    SwapScene,
    YouTubeAction,
)

logger = logging.getLogger(__name__)

NUMBERS_PER_ROW = 5
SWAPS_PER_ROW = 3


def script_review(job: str, t: Translator, *, can_rewrite: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=t("button.approve"), callback_data=ScriptAction(step=ScriptStep.APPROVE, job=job)
    )
    builder.button(text=t("button.edit"), callback_data=ScriptAction(step=ScriptStep.EDIT, job=job))
    if can_rewrite:
        builder.button(
            text=t("button.rewrite"), callback_data=ScriptAction(step=ScriptStep.REWRITE, job=job)
        )
    builder.button(
        text=t("button.cancel"), callback_data=ScriptAction(step=ScriptStep.CANCEL, job=job)
    )
    builder.adjust(2)
    return builder.as_markup()


def scene_picker(job: str, scenes: int, t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for scene in range(1, scenes + 1):
        builder.button(text=str(scene), callback_data=EditScene(job=job, scene=scene))
    builder.adjust(NUMBERS_PER_ROW)
    builder.row()
    builder.button(text=t("button.back"), callback_data=ScriptAction(step=ScriptStep.BACK, job=job))
    return builder.as_markup()


def sheet_review(job: str, scenes: int, t: Translator) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for scene in range(1, scenes + 1):
        builder.button(
            text=t("button.swap", scene=scene), callback_data=SwapScene(job=job, scene=scene)
        )
    builder.adjust(SWAPS_PER_ROW)
    builder.row()
    builder.button(
        text=t("button.render"), callback_data=SheetAction(step=SheetStep.RENDER, job=job)
    )
    builder.button(
        text=t("button.cancel"), callback_data=SheetAction(step=SheetStep.CANCEL, job=job)
    )
    return builder.as_markup()


DUBS_PER_ROW = 2


def dubs(
    job: str, languages: tuple[str, ...], t: Translator, *, youtube: bool = False
) -> InlineKeyboardMarkup:
    """ "Also in …": one button per language the delivered reel can be dubbed into; and
    "Post to YouTube" when this bot posts there."""
    builder = InlineKeyboardBuilder()
    for code in languages:
        label = t("button.dub", language=ENDONYMS.get(code, code))
        builder.button(text=label, callback_data=DubAction(job=job, lang=code))
    builder.adjust(DUBS_PER_ROW)
    if youtube:
        builder.row()
        builder.button(
            text=t("button.youtube"), callback_data=YouTubeAction(job=job, privacy="ask")
        )
    return builder.as_markup()


def youtube_privacy(job: str, options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Private / Unlisted / Public for one reel's upload."""
    builder = InlineKeyboardBuilder()
    for privacy, label in options:
        builder.button(text=label, callback_data=YouTubeAction(job=job, privacy=privacy))
    builder.adjust(len(options))
    return builder.as_markup()


def force_reply(placeholder: str) -> ForceReply:
    # Telegram allows 64 characters of placeholder.
    return ForceReply(force_reply=True, input_field_placeholder=placeholder[:64])
