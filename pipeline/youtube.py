"""What posting a reel to YouTube needs besides the wire: the refresh tokens sealed at rest
(Fernet), the video resource a reel becomes (title, description, tags, category, privacy,
``containsSyntheticMedia``), the Shorts link, and the errors a user is told."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from .errors import ReelError, StudioError
from .models import Script

PLATFORM = "youtube"
PRIVACY = ("private", "unlisted", "public")
DEFAULT_PRIVACY = "private"
TITLE_LIMIT = 100  # characters
DESCRIPTION_LIMIT = 5000  # bytes of UTF-8
TAGS_LIMIT = 500  # characters, counted as YouTube does (a tag with a space counts its quotes)
MAKE_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)
_ANGLES = re.compile(r"[<>]")


class NotConfigured(StudioError):
    """No OAuth client: this deployment does not post to YouTube."""

    code = "youtube.not_configured"


class NoTokenKey(StudioError):
    """An OAuth client but no key to seal tokens with: connecting is refused, not stored
    in the clear. The message tells the admin how to make a key."""

    code = "youtube.no_key"


class NotConnected(StudioError):
    code = "youtube.not_connected"


class BadPrivacy(StudioError):
    code = "error.bad_button"


class TokenUnreadable(ReelError):
    """A stored token does not open with the configured key (the key changed)."""

    code = "youtube.revoked"


class TokenBox:
    """Seals refresh tokens with the deployment's Fernet key (``REELFACTORY_YOUTUBE_TOKEN_KEY``)."""

    def __init__(self, key: SecretStr | None) -> None:
        if key is None:
            raise NoTokenKey("REELFACTORY_YOUTUBE_TOKEN_KEY is not set; make one with: " + MAKE_KEY)
        try:
            self._fernet = Fernet(key.get_secret_value().encode())
        except ValueError as exc:
            raise NoTokenKey(
                "REELFACTORY_YOUTUBE_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes); "
                "make one with: " + MAKE_KEY
            ) from exc

    def seal(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def open(self, sealed: bytes) -> str:
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken as exc:
            raise TokenUnreadable("a stored YouTube token does not open with the key") from exc


@dataclass(frozen=True, slots=True)
class Linked:
    """A channel linked by ``/connect youtube``."""

    owner: str
    channel_title: str | None


@dataclass(frozen=True, slots=True)
class Posted:
    """A reel on YouTube. ``fresh`` is False when it was already there (a second press)."""

    url: str
    video_id: str
    privacy: str
    fresh: bool


def shorts_url(video_id: str) -> str:
    return f"https://youtube.com/shorts/{video_id}"


def clean(text: str) -> str:
    """No ``<`` ``>`` (YouTube refuses them in titles and descriptions), one line of spaces."""
    return _ANGLES.sub("", text)


def title_of(script: Script) -> str:
    title = " ".join(clean(script.title).split()) or "Reel"
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1].rstrip() + "…"
    return title


def tags_of(script: Script) -> list[str]:
    tags: list[str] = []
    used = 0
    for tag in script.hashtags:
        word = clean(tag).lstrip("#").strip()
        cost = len(word) + (2 if " " in word else 0) + (1 if tags else 0)
        if not word or word in tags or used + cost > TAGS_LIMIT:
            continue
        tags.append(word)
        used += cost
    return tags


def description_of(script: Script, disclosure: str | None, credit: str | None = None) -> str:
    """The description, the hashtags (#Shorts among them), the sources, any credit line, and
    the AI disclosure last; within 5000 bytes, the sources giving way first."""
    hashtags = [f"#{t.lstrip('#')}" for t in script.hashtags if t.strip("#").strip()]
    if "#Shorts" not in hashtags:
        hashtags.append("#Shorts")
    head = [clean(script.description or script.hook or script.title).strip()]
    head.append(" ".join(clean(tag).replace(" ", "") for tag in hashtags))
    tail = [clean(credit)] if credit else []
    if disclosure:
        tail.append(clean(disclosure))
    sources = [clean(source) for source in script.sources]
    while True:
        parts = [*head, *(["\n".join(sources)] if sources else []), *tail]
        text = "\n\n".join(part for part in parts if part)
        if len(text.encode()) <= DESCRIPTION_LIMIT or not sources:
            break
        sources.pop()
    return text.encode()[:DESCRIPTION_LIMIT].decode(errors="ignore")


def video_resource(
    script: Script,
    *,
    privacy: str,
    category: str,
    disclosure: str | None,
    credit: str | None = None,
) -> dict[str, Any]:
    """The ``snippet`` and ``status`` of the upload. Privacy is always set explicitly; the
    reel is declared AI-made (``containsSyntheticMedia``) and not made for kids."""
    if privacy not in PRIVACY:
        raise BadPrivacy(f"no privacy {privacy!r}")
    return {
        "snippet": {
            "title": title_of(script),
            "description": description_of(script, disclosure, credit),
            "tags": tags_of(script),
            "categoryId": category,
            "defaultLanguage": script.language,
            "defaultAudioLanguage": script.language,
        },
        "status": {
            "privacyStatus": privacy,
            "selfDeclaredMadeForKids": False,
            "containsSyntheticMedia": True,
        },
    }


__all__ = [
    "DEFAULT_PRIVACY",
    "PLATFORM",
    "PRIVACY",
    "BadPrivacy",
    "Linked",
    "NoTokenKey",
    "NotConfigured",
    "NotConnected",
    "Posted",
    "TokenBox",
    "TokenUnreadable",
    "shorts_url",
    "video_resource",
]
