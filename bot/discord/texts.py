"""Who is asking and in which language, and replying to an interaction whatever state it is
in: the Discord front's small shared pieces."""

from __future__ import annotations

import logging

import discord

from bot.presenters import MARKDOWN, error_text
from locales import Translator, negotiate, translator
from pipeline.errors import ReelError
from pipeline.studio import Studio

logger = logging.getLogger(__name__)

FRONT = "discord"
SPELLING = {
    "cmd_new": "/reel topic:",
    "cmd_script": "/reel script:",
    "cmd_language": "/settings",
}
CONTENT_LIMIT = 2000  # characters of a message's content


def owner_of(user: discord.abc.User) -> str:
    return f"{FRONT}:{user.id}"


def discord_translator(*locales: str | None) -> Translator:
    return translator(negotiate(*locales), SPELLING)


async def user_translator(studio: Studio, interaction: discord.Interaction) -> Translator:
    """The stored interface language, else the client's (``interaction.locale``)."""
    prefs = await studio.preferences(owner_of(interaction.user))
    return discord_translator(prefs.ui_language, str(interaction.locale))


async def reply(interaction: discord.Interaction, text: str, *, ephemeral: bool = True) -> None:
    """Answer with ``text`` (already Markdown-safe): the response when it is still open, a
    followup after a defer. Never pings anyone."""
    text = text[:CONTENT_LIMIT]
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=ephemeral, allowed_mentions=none)
        else:
            await interaction.response.send_message(
                text, ephemeral=ephemeral, allowed_mentions=none
            )
    except discord.HTTPException as exc:
        logger.warning("could not answer interaction %s: %s", interaction.id, exc)


async def refuse(interaction: discord.Interaction, exc: Exception, t: Translator) -> None:
    """Explain ``exc`` to the person who pressed, and only to them."""
    if isinstance(exc, ReelError):
        logger.info("interaction %s: %s: %s", interaction.id, type(exc).__name__, exc)
    else:
        logger.error("interaction %s failed", interaction.id, exc_info=exc)
    await reply(interaction, MARKDOWN.escape(error_text(exc, t)))
