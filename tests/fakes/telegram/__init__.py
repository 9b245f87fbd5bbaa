"""A fake Telegram Bot API server for aiogram's real HTTP layer; see ``server``."""

from .server import FakeTelegram
from .wire import Call, TgUser, Upload, check_html, plain

__all__ = ["Call", "FakeTelegram", "TgUser", "Upload", "check_html", "plain"]
