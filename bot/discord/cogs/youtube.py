"""/connect service:youtube, /disconnect service:youtube, and "Post to YouTube" under a
delivered reel: the press asks for the privacy (ephemeral, the user's last choice ticked),
the choice uploads, and the answer is the Shorts link; a second press gives the same link.
Everything is answered only to the person who asked."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.presenters import MARKDOWN
from bot.youtube import ASK, connect_text, disclosure_for, posted_text, privacy_options, told
from pipeline.studio import BadButton, Studio
from pipeline.youtube import PRIVACY

from ..texts import owner_of, refuse, reply, user_translator
from ..views import youtube_privacy_view

if TYPE_CHECKING:
    from ..client import ReelBot

logger = logging.getLogger(__name__)

SERVICES = [app_commands.Choice(name="YouTube", value="youtube")]
NONE = discord.AllowedMentions.none()


class YouTube(commands.Cog):
    def __init__(self, bot: ReelBot) -> None:
        self.bot = bot
        self.studio: Studio = bot.studio

    @app_commands.command(name="connect", description="Link your YouTube channel to post reels")
    @app_commands.describe(service="Where your reels can be posted")
    @app_commands.choices(service=SERVICES)
    async def connect(self, interaction: discord.Interaction, service: str) -> None:
        t = await user_translator(self.studio, interaction)
        user = interaction.user

        async def say(text: str) -> None:
            """The outcome: to the same ephemeral thread while its token lives, else a DM."""
            text = MARKDOWN.escape(text)
            if not interaction.is_expired():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
                return
            channel = await self.bot.create_dm(user)
            await channel.send(text, allowed_mentions=NONE)

        try:
            device = await self.studio.connect_youtube(owner_of(user), told(say, t))
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        await reply(interaction, connect_text(device, t, MARKDOWN))

    @app_commands.command(name="disconnect", description="Unlink your YouTube channel")
    @app_commands.describe(service="The service to unlink")
    @app_commands.choices(service=SERVICES)
    async def disconnect(self, interaction: discord.Interaction, service: str) -> None:
        t = await user_translator(self.studio, interaction)
        try:
            await self.studio.disconnect_youtube(owner_of(interaction.user))
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        await reply(interaction, MARKDOWN.escape(t("youtube.disconnected")))

    async def press(self, interaction: discord.Interaction, job_id: str, privacy: str) -> None:
        t = await user_translator(self.studio, interaction)
        owner = owner_of(interaction.user)
        try:
            if privacy != ASK and privacy not in PRIVACY:
                raise BadButton(f"no privacy {privacy!r}")
            earlier = await self.studio.youtube_press(owner, job_id)
            if earlier is not None:
                await reply(interaction, posted_text(earlier, t, MARKDOWN))
                return
            if privacy == ASK:
                current = await self.studio.youtube_privacy(owner)
                await interaction.response.send_message(
                    MARKDOWN.escape(t("youtube.ask_privacy")),
                    view=youtube_privacy_view(job_id, privacy_options(current, t)),
                    ephemeral=True,
                    allowed_mentions=NONE,
                )
                return
            await interaction.response.defer(ephemeral=True, thinking=True)
            job = await self.studio.job(job_id)
            posted = await self.studio.post_youtube(
                owner, job_id, disclosure=disclosure_for(self.studio, job), privacy=privacy
            )
        except Exception as exc:
            await refuse(interaction, exc, t)
            return
        await reply(interaction, posted_text(posted, t, MARKDOWN))


async def setup(bot: ReelBot) -> None:
    await bot.add_cog(YouTube(bot))
