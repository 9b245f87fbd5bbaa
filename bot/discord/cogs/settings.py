"""/settings (interface and narration language, voice, subtitle style), /stats for admins,
and /help: all answered only to the person who asked."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.preferences import Screen, Setting, choose, screen
from bot.presenters import MARKDOWN, stats_text
from locales import Translator
from pipeline.errors import BadButton
from pipeline.studio import Preferences, Studio

from ..texts import owner_of, refuse, reply, user_translator
from ..views import settings_view

if TYPE_CHECKING:
    from ..client import ReelBot

logger = logging.getLogger(__name__)

SCREENS = (Setting.LANGUAGE, Setting.VOICE, Setting.STYLE, Setting.MUSIC)


class Settings(commands.Cog):
    def __init__(self, bot: ReelBot) -> None:
        self.bot = bot
        self.studio: Studio = bot.studio

    def _screens(self, prefs: Preferences, t: Translator) -> tuple[str, discord.ui.View]:
        screens: list[Screen] = [screen(s, prefs, t, MARKDOWN, self.studio) for s in SCREENS]
        return "\n\n".join(s.text for s in screens), settings_view(screens)

    @app_commands.command(name="settings", description="Language, voice and subtitle style")
    async def settings(self, interaction: discord.Interaction) -> None:
        t = await user_translator(self.studio, interaction)
        prefs = await self.studio.preferences(owner_of(interaction.user))
        text, view = self._screens(prefs, t)
        await interaction.response.send_message(
            text, view=view, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    async def chosen(self, interaction: discord.Interaction, setting: str, value: str) -> None:
        t = await user_translator(self.studio, interaction)
        try:
            if setting not in set(Setting):
                raise BadButton(f"no setting {setting!r}")
            prefs, t = await choose(
                self.studio, owner_of(interaction.user), Setting(setting), value, t
            )
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        text, view = self._screens(prefs, t)
        await interaction.response.edit_message(content=text, view=view)

    @app_commands.command(name="stats", description="Today's jobs and stage times (admins)")
    async def stats(self, interaction: discord.Interaction) -> None:
        t = await user_translator(self.studio, interaction)
        try:
            figures = await self.studio.stats(owner_of(interaction.user))
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        await reply(interaction, stats_text(figures, t, MARKDOWN))

    @app_commands.command(name="help", description="How this bot works")
    async def help(self, interaction: discord.Interaction) -> None:
        t = await user_translator(self.studio, interaction)
        await reply(interaction, MARKDOWN.escape(t("help.discord")))


async def setup(bot: ReelBot) -> None:
    await bot.add_cog(Settings(bot))
