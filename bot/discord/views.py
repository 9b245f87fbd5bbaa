"""Buttons and selects whose custom ids carry the job (``reel:approve:<job>``), so they keep
working after a restart: ``discord.ui.DynamicItem`` classes, registered once with
``add_dynamic_items``. What a press does lives in the cogs; these only parse and build.

Limits kept by construction: a custom id is at most 100 characters (job ids are 16), a select
sits alone in its row, at most 5 rows, options and labels within Discord's sizes.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Protocol

import discord

from bot.preferences import Option, Screen
from locales import ENDONYMS, Translator

from .texts import discord_translator, reply

logger = logging.getLogger(__name__)

BUTTON = r"reel:(?P<action>[a-z]{1,16}):(?P<job>[A-Za-z0-9]{1,64})"
PICK = r"reel-pick:(?P<action>[a-z]{1,16}):(?P<job>[A-Za-z0-9]{1,64})"
SETTING = r"reel-set:(?P<setting>[a-z]{1,16})"
DUB = r"reel-dub:(?P<job>[A-Za-z0-9]{1,64})"
YOUTUBE = r"reel-yt:(?P<privacy>[a-z]{1,16}):(?P<job>[A-Za-z0-9]{1,64})"
TEMPLATES = tuple(re.compile(t) for t in (BUTTON, PICK, SETTING, DUB, YOUTUBE))
LABEL_LIMIT = 80  # button labels; select option labels allow 100


def ours(custom_id: str) -> bool:
    return any(template.fullmatch(custom_id) for template in TEMPLATES)


class Presses(Protocol):
    """What the review cog does with a press (see cogs/review.py)."""

    async def press(self, interaction: discord.Interaction, action: str, job: str) -> None: ...

    async def pick(
        self, interaction: discord.Interaction, action: str, job: str, value: str
    ) -> None: ...

    async def setting(self, interaction: discord.Interaction, setting: str, value: str) -> None: ...

    async def dub(self, interaction: discord.Interaction, job: str, language: str) -> None: ...


def _presses(interaction: discord.Interaction) -> Presses:
    presses: Presses | None = getattr(interaction.client, "presses", None)
    if presses is None:
        raise RuntimeError("the bot has no review cog loaded")
    return presses


def _select(
    custom_id: str, options: list[discord.SelectOption], placeholder: str = ""
) -> discord.ui.Select[Any]:
    """A select with these options (Discord wants at least one)."""
    return discord.ui.Select(
        custom_id=custom_id,
        placeholder=placeholder[:150] or None,
        options=options or [discord.SelectOption(label="-", value="-")],
    )


def _options(item: discord.ui.Item[Any]) -> list[discord.SelectOption]:
    """The options of the select a press came from (a dynamic item is rebuilt from it)."""
    return list(item.options) if isinstance(item, discord.ui.Select) else []


def _chosen(select: discord.ui.Select[Any]) -> str:
    return select.values[0] if select.values else ""


class ReelButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON):
    def __init__(
        self,
        action: str,
        job: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label[:LABEL_LIMIT] or action, style=style, custom_id=f"reel:{action}:{job}"
        )
        super().__init__(button, row=row)
        self.action, self.job = action, job

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReelButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _presses(interaction).press(interaction, self.action, self.job)


class ScenePick(discord.ui.DynamicItem[discord.ui.Select[Any]], template=PICK):
    """Pick a scene: to edit it (a modal) or to swap its picture."""

    def __init__(
        self, action: str, job: str, options: list[discord.SelectOption], placeholder: str = ""
    ) -> None:
        super().__init__(_select(f"reel-pick:{action}:{job}", options, placeholder), row=0)
        self.action, self.job = action, job

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ScenePick:
        return cls(match["action"], match["job"], _options(item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _presses(interaction).pick(interaction, self.action, self.job, _chosen(self.item))


class SettingPick(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SETTING):
    def __init__(
        self, setting: str, options: list[discord.SelectOption], row: int | None = None
    ) -> None:
        super().__init__(_select(f"reel-set:{setting}", options), row=row)
        self.setting = setting

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SettingPick:
        return cls(match["setting"], _options(item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _presses(interaction).setting(interaction, self.setting, _chosen(self.item))


class DubPick(discord.ui.DynamicItem[discord.ui.Select[Any]], template=DUB):
    """ "Also in …" under a delivered reel: pick a language to dub it into."""

    def __init__(
        self, job: str, options: list[discord.SelectOption], placeholder: str = ""
    ) -> None:
        super().__init__(_select(f"reel-dub:{job}", options, placeholder), row=0)
        self.job = job

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DubPick:
        return cls(match["job"], _options(item))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _presses(interaction).dub(interaction, self.job, _chosen(self.item))


class YouTubeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=YOUTUBE):
    """ "Post to YouTube" (``privacy`` ``ask``) and the privacy choice that follows it; the
    YouTube cog handles the press."""

    def __init__(
        self,
        privacy: str,
        job: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label[:LABEL_LIMIT] or privacy,
            style=style,
            custom_id=f"reel-yt:{privacy}:{job}",
        )
        super().__init__(button, row=row)
        self.privacy, self.job = privacy, job

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> YouTubeButton:
        return cls(match["privacy"], match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = getattr(interaction.client, "get_cog", lambda name: None)("YouTube")
        if cog is None:  # a button from when YouTube was set up; it no longer is
            t = discord_translator(str(interaction.locale))
            await reply(interaction, t("youtube.not_configured"))
            return
        await cog.press(interaction, self.job, self.privacy)


DYNAMIC_ITEMS = (ReelButton, ScenePick, SettingPick, DubPick, YouTubeButton)


def dubs_view(
    job: str, languages: tuple[str, ...], t: Translator, *, youtube: bool = False
) -> discord.ui.View:
    """ "Also in …" under a delivered reel, and "Post to YouTube" when this bot posts there."""
    options = [
        discord.SelectOption(
            label=t("button.dub", language=ENDONYMS.get(code, code))[:100], value=code
        )
        for code in languages
    ]
    view = discord.ui.View(timeout=None)
    view.add_item(DubPick(job, options, t("button.dub_pick")))
    if youtube:
        view.add_item(YouTubeButton("ask", job, t("button.youtube"), discord.ButtonStyle.danger, 1))
    return view


def youtube_privacy_view(job: str, options: list[tuple[str, str]]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for privacy, label in options:
        view.add_item(YouTubeButton(privacy, job, label, row=0))
    return view


def _scene_options(scenes: int) -> list[discord.SelectOption]:
    return [discord.SelectOption(label=str(n), value=str(n)) for n in range(1, scenes + 1)]


def script_review(job: str, scenes: int, t: Translator, *, can_rewrite: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ScenePick("edit", job, _scene_options(scenes), t("button.edit_pick")))
    view.add_item(ReelButton("approve", job, t("button.approve"), discord.ButtonStyle.success, 1))
    if can_rewrite:
        view.add_item(ReelButton("rewrite", job, t("button.rewrite"), row=1))
    view.add_item(ReelButton("cancel", job, t("button.cancel"), discord.ButtonStyle.danger, 1))
    return view


def sheet_review(job: str, scenes: int, t: Translator) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ScenePick("swap", job, _scene_options(scenes), t("button.swap_pick")))
    view.add_item(ReelButton("render", job, t("button.render"), discord.ButtonStyle.primary, 1))
    view.add_item(ReelButton("cancel", job, t("button.cancel"), discord.ButtonStyle.danger, 1))
    return view


def settings_view(screens: list[Screen]) -> discord.ui.View:
    """One select per setting (interface language, narration language, voice, style)."""
    view = discord.ui.View(timeout=None)
    row = 0
    for screen in screens:
        by_setting: dict[str, list[Option]] = {}
        for option in screen.options:
            by_setting.setdefault(option.setting, []).append(option)
        for setting, options in by_setting.items():
            choices = [
                discord.SelectOption(label=o.label[:100], value=o.value, default=o.chosen)
                for o in options[:25]
            ]
            view.add_item(SettingPick(setting, choices, row=row))
            row += 1
    return view
