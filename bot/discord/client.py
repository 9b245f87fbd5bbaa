"""The Discord front (discord.py 2): the bot subclass that owns the front's resources, and its
lifetime inside ``serve``.

``DiscordFront.run(stop)`` logs in, connects to the gateway, syncs the slash commands (to one
guild when ``REELFACTORY_DISCORD_GUILD_ID`` is set, which is instant, else globally), resumes
unfinished Discord jobs, and on ``stop`` shuts down in order: renders cancelled (their jobs
stay ``producing`` and resume at the next start; a post under way finishes first), then the
connection closed.

``REELFACTORY_DISCORD_API_BASE`` sends REST, interaction callbacks and webhooks to another
server (``discord.http.Route.BASE``); the gateway is then asked of that server, unless
``REELFACTORY_DISCORD_GATEWAY_URL`` names it: discord.py itself never asks ``/gateway/bot``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
import yarl
from discord.ext import commands

from bot.productions import Productions
from bot.progress import MIN_EDIT_INTERVAL
from bot.tasks import Background, until_stopped
from pipeline.app import App
from pipeline.concurrency import KeyedLocks
from pipeline.settings import DiscordSettings
from pipeline.studio import Studio

from .reels import DiscordReels
from .texts import FRONT, discord_translator, reply
from .views import DYNAMIC_ITEMS, ours

logger = logging.getLogger(__name__)

EXTENSIONS = ("bot.discord.cogs.review", "bot.discord.cogs.settings")
YOUTUBE = "bot.discord.cogs.youtube"  # /connect and /disconnect, only where YouTube is set up
SHUTDOWN_GRACE = 5.0


def point_at(config: DiscordSettings) -> None:
    """Send REST to ``config.api_base`` (before login: every Route reads it when built)."""
    if config.api_base:
        discord.http.Route.BASE = config.api_base.rstrip("/")


class ReelBot(commands.Bot):
    def __init__(
        self,
        studio: Studio,
        config: DiscordSettings,
        *,
        edit_interval: float = MIN_EDIT_INTERVAL,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,
        )
        self.studio = studio
        self.config = config
        self.locks = KeyedLocks()
        self.background = Background()
        self.reels = DiscordReels(self, studio)
        self.productions = Productions(
            studio, self.reels, self.background, edit_interval=edit_interval
        )
        self.presses: Any = None  # the review cog, once loaded
        self.ready_once = asyncio.Event()

    async def setup_hook(self) -> None:
        if self.config.gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)
        elif self.config.api_base:
            _, url, _ = await self.http.get_bot_gateway()
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.studio.youtube_ready:
            await self.load_extension(YOUTUBE)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        guild = discord.Object(self.config.guild_id) if self.config.guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        logger.info("discord: %d slash commands synced", len(synced))
        self.background.spawn(self._resume(), name="discord-resume")

    async def _resume(self) -> None:
        resumed = await self.studio.resume({FRONT: self.reels.resumed})
        if resumed:
            logger.info("resumed and delivered %d Discord job(s)", len(resumed))

    async def on_ready(self) -> None:
        logger.info("discord: connected as %s", self.user)
        self.ready_once.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A component nobody will handle (not ours, or not on its message: forged or from an
        older version) still gets an answer instead of "This interaction failed"."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if ours(custom_id) and custom_id in _component_ids(interaction.message):
            return
        logger.info("unknown component %r", custom_id[:100])
        studio_prefs = await self.studio.preferences(f"{FRONT}:{interaction.user.id}")
        t = discord_translator(studio_prefs.ui_language, str(interaction.locale))
        await reply(interaction, t("error.bad_button"))

    async def close(self) -> None:
        await self.background.close(SHUTDOWN_GRACE)
        await super().close()


def _component_ids(message: discord.Message | None) -> set[str]:
    ids: set[str] = set()
    for row in message.components if message is not None else []:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                ids.add(custom_id)
    return ids


class DiscordFront:
    def __init__(
        self,
        app: App,
        *,
        studio: Studio,
        edit_interval: float = MIN_EDIT_INTERVAL,
        **client_options: Any,
    ) -> None:
        """``client_options`` go to discord.py's client (tests shorten its READY wait)."""
        self.app = app
        self.config = app.settings.discord
        if self.config.bot_token is None:
            raise ValueError("REELFACTORY_DISCORD_BOT_TOKEN is not set")
        self.bot = ReelBot(studio, self.config, edit_interval=edit_interval, **client_options)

    async def run(self, stop: asyncio.Event) -> None:
        assert self.config.bot_token is not None
        point_at(self.config)
        connection = asyncio.create_task(
            self.bot.start(self.config.bot_token.get_secret_value()), name="discord-connection"
        )
        try:
            await until_stopped(connection, stop)
        finally:
            await self.bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                await connection  # re-raises what made the connection end on its own
            logger.info("discord front stopped")
