"""Callback data: ids and small enums only (64 bytes, no ``:`` in values)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.preferences import Setting


class ScriptStep(StrEnum):
    APPROVE = "ok"
    EDIT = "ed"
    REWRITE = "rw"
    CANCEL = "x"
    BACK = "bk"


class SheetStep(StrEnum):
    RENDER = "go"
    CANCEL = "x"


class ScriptAction(CallbackData, prefix="scr"):
    step: ScriptStep
    job: str


class EditScene(CallbackData, prefix="edt"):
    job: str
    scene: int


class SheetAction(CallbackData, prefix="img"):
    step: SheetStep
    job: str


class SwapScene(CallbackData, prefix="swp"):
    job: str
    scene: int


class SettingChoice(CallbackData, prefix="set"):
    setting: Setting
    value: str  # an option's id; DEFAULT for "no choice"


class DubAction(CallbackData, prefix="dub"):
    """ "Also in …" on a delivered reel: the reel and the language to dub it into."""

    job: str
    lang: str


class YouTubeAction(CallbackData, prefix="yt"):
    """ "Post to YouTube" on a delivered reel: ``privacy`` is ``ask`` on the reel's own
    button, then one of private/unlisted/public on the choice that follows."""

    job: str
    privacy: str
