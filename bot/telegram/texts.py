"""How the Telegram front spells what the shared catalogs leave open: its commands."""

from __future__ import annotations

from locales import Translator, negotiate, translator

COMMANDS = ("new", "script", "language", "voice", "style", "music", "help")
YOUTUBE_COMMANDS = ("connect", "disconnect")  # in the menu only where YouTube is set up
SPELLING = {"cmd_new": "/new", "cmd_script": "/script", "cmd_language": "/language"}


def telegram_translator(*locales: str | None) -> Translator:
    """The first of ``locales`` with a catalog, else English, with Telegram's spellings."""
    return translator(negotiate(*locales), SPELLING)
