"""Where the daily reels go: ``telegram:<chat id>[@lang]``, ``discord:<channel id>[@lang]`` and
``youtube:<owner>[@lang]``, the channel a user linked with ``/connect youtube`` (the owner as
``telegram:<user id>`` or ``discord:<user id>``).

A Telegram chat is a numeric id (channels and supergroups are negative, ``-100…``) or a public
``@username``; a Discord channel is a snowflake. The optional ``@lang`` suffix is the language
the reels for that destination are written in (default ``en``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .errors import InputError

__all__ = [
    "DEFAULT_LANGUAGE",
    "Destination",
    "DestinationError",
    "Platform",
    "parse_destination",
    "parse_destinations",
]

DEFAULT_LANGUAGE = "en"

_TELEGRAM_CHAT = re.compile(r"-?[1-9]\d{0,18}|@[A-Za-z][A-Za-z0-9_]{3,31}")
_SNOWFLAKE = re.compile(r"[1-9]\d{14,19}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_OWNER = re.compile(r"(?:telegram|discord):[1-9]\d{0,19}")


class Platform(StrEnum):
    TELEGRAM = "telegram"
    DISCORD = "discord"
    YOUTUBE = "youtube"


@dataclass(frozen=True, slots=True)
class Destination:
    platform: Platform
    target: str  # the chat or channel id, as the platform's API takes it
    language: str = DEFAULT_LANGUAGE

    @property
    def key(self) -> str:
        """The destination without its language: what delivery and daily claims are keyed by."""
        return f"{self.platform}:{self.target}"

    def __str__(self) -> str:
        return f"{self.key}@{self.language}"


class DestinationError(InputError):
    """A bad destination entry in the settings (``code`` stays ``error.input``: the
    message is for the operator, who reads it at start-up)."""


def _platform(text: str, entry: str) -> tuple[Platform, str]:
    name, sep, rest = text.partition(":")
    try:
        platform = Platform(name.strip().lower())
    except ValueError:
        raise DestinationError(
            f"{entry!r}: the platform must be telegram or discord (or youtube for a channel a "
            "user linked), e.g. telegram:-1001234567890",
            params={"entry": entry},
        ) from None
    if not sep or not rest.strip():
        raise DestinationError(
            f"{entry!r}: the {platform} id is missing, e.g. {platform}:1234567890",
            params={"entry": entry},
        )
    return platform, rest.strip()


_PATTERNS = {
    Platform.TELEGRAM: _TELEGRAM_CHAT,
    Platform.DISCORD: _SNOWFLAKE,
    Platform.YOUTUBE: _OWNER,
}
_EXPECTED = {
    Platform.TELEGRAM: "a numeric chat id (channels start with -100) or a public @username",
    Platform.DISCORD: (
        "a channel id of 15-20 digits (Developer Mode: right-click > Copy Channel ID)"
    ),
    Platform.YOUTUBE: "the user who linked the channel, e.g. youtube:telegram:123456789",
}


def parse_destination(entry: str) -> Destination:
    """One ``platform:id[@lang]`` entry, or a DestinationError saying what is wrong with it."""
    platform, rest = _platform(entry.strip(), entry)
    # The language is the part after the last '@' that is not the first character: a Telegram
    # @username starts with one.
    target, language = rest, DEFAULT_LANGUAGE
    cut = rest.rfind("@")
    if cut > 0:
        target, language = rest[:cut].strip(), rest[cut + 1 :].strip().lower()
        if not _LANGUAGE.fullmatch(language):
            raise DestinationError(
                f"{entry!r}: {language!r} is not a language code; use two letters, e.g. @es",
                params={"entry": entry},
            )
    pattern = _PATTERNS[platform]
    if not pattern.fullmatch(target):
        expected = _EXPECTED[platform]
        raise DestinationError(f"{entry!r}: {target!r} is not {expected}", params={"entry": entry})
    return Destination(platform, target, language)


def parse_destinations(entries: Iterable[str]) -> list[Destination]:
    """Every entry parsed, in order; the same chat listed twice is an error, not two posts."""
    found: list[Destination] = []
    seen: dict[str, str] = {}
    for entry in entries:
        if not entry.strip():
            continue
        destination = parse_destination(entry)
        if destination.key in seen:
            raise DestinationError(
                f"{entry!r}: {destination.key} is already listed as {seen[destination.key]!r}",
                params={"entry": entry},
            )
        seen[destination.key] = entry
        found.append(destination)
    return found
