"""What the scheduler and the alerter need from the fronts: posting a reel to a channel
(``Posters``, a ``pipeline.delivery.Deliverer`` routing ``Post.destination`` to its platform)
and DMing an admin (``Notifiers``, a ``pipeline.alerts.Notifier``).

Inside ``serve`` they use the running fronts' clients. ``rest_clients`` builds them for a
one-shot command (``reelfactory daily``, ``summary --send``) without polling Telegram or
connecting to Discord's gateway: aiogram's Bot is REST alone, and discord.py's ``login`` gives
REST without the gateway.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.delivery import Post
from pipeline.errors import NotSent
from pipeline.settings import Settings
from pipeline.studio import Studio

if TYPE_CHECKING:
    import discord
    from aiogram import Bot

logger = logging.getLogger(__name__)

PostTo = Callable[[str, Post], Awaitable[None]]
Send = Callable[[str, str], Awaitable[None]]


class Posters:
    """A deliverer for jobs with destinations: ``telegram:<chat>`` goes to the Telegram
    front's ``post_to``, ``discord:<channel>`` to Discord's, ``youtube:<owner>`` to the
    channel that user linked."""

    def __init__(self) -> None:
        self.platforms: dict[str, PostTo] = {}

    def add(self, platform: str, post_to: PostTo) -> None:
        self.platforms[platform] = post_to

    async def __call__(self, post: Post) -> None:
        platform, _, target = (post.destination or "").partition(":")
        post_to = self.platforms.get(platform)
        if post_to is None:
            raise NotSent(
                f"cannot post to {post.destination!r}: no {platform or 'such'} front is "
                "configured (set its bot token)"
            )
        await post_to(target, post)


class Notifiers:
    """DMs an admin (``telegram:<id>``, ``discord:<id>``) on their platform, in plain text."""

    def __init__(self) -> None:
        self.platforms: dict[str, Send] = {}

    def add(self, platform: str, send: Send) -> None:
        self.platforms[platform] = send

    async def send(self, admin: str, text: str) -> None:
        platform, _, user_id = admin.partition(":")
        send = self.platforms.get(platform)
        if send is None:
            raise NotSent(f"no {platform} front is running to DM {admin}")
        await send(user_id, text)


def telegram_dm(bot: Bot) -> Send:
    async def send(user_id: str, text: str) -> None:
        # Plain text: the bot's default parse mode is HTML, and alert text is not markup.
        await bot.send_message(int(user_id), text[:4096], parse_mode=None)

    return send


def discord_dm(client: discord.Client) -> Send:
    import discord

    async def send(user_id: str, text: str) -> None:
        channel = await client.create_dm(discord.Object(int(user_id)))
        await channel.send(text[:2000], allowed_mentions=discord.AllowedMentions.none())

    return send


@dataclass(slots=True)
class Clients:
    posters: Posters = field(default_factory=Posters)
    notifiers: Notifiers = field(default_factory=Notifiers)


@asynccontextmanager
async def rest_clients(settings: Settings, studio: Studio) -> AsyncIterator[Clients]:
    """Posting and DMs for every platform with a token, over REST only; closed on exit."""
    clients = Clients()
    async with AsyncExitStack() as stack:
        if settings.telegram.bot_token is not None:
            from bot.telegram import create_bot
            from bot.telegram.delivery import TelegramReels

            bot = create_bot(settings)
            stack.push_async_callback(bot.session.close)
            limit = settings.telegram.upload_limit_mb * 1024 * 1024
            clients.posters.add("telegram", TelegramReels(bot, studio, upload_limit=limit).post_to)
            clients.notifiers.add("telegram", telegram_dm(bot))
        if settings.discord.bot_token is not None:
            import discord

            from bot.discord.client import point_at
            from bot.discord.reels import DiscordReels

            point_at(settings.discord)
            client = discord.Client(
                intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
            )
            stack.push_async_callback(client.close)
            await client.login(settings.discord.bot_token.get_secret_value())
            clients.posters.add("discord", DiscordReels(client, studio).post_to)
            clients.notifiers.add("discord", discord_dm(client))
        if settings.youtube_configured:
            from bot.youtube import youtube_poster

            clients.posters.add("youtube", youtube_poster(studio))
        yield clients


__all__ = ["Clients", "Notifiers", "Posters", "discord_dm", "rest_clients", "telegram_dm"]
