"""The Discord front (discord.py 2): cogs per feature, dynamic-item buttons, modals."""

from .client import DiscordFront, ReelBot

__all__ = ["DiscordFront", "ReelBot"]
