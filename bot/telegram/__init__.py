"""The Telegram front (aiogram 3): thin handlers over pipeline.studio."""

from .app import TelegramFront, create_dispatcher
from .session import create_bot

__all__ = ["TelegramFront", "create_bot", "create_dispatcher"]
