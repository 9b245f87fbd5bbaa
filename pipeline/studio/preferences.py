"""A user's settings as the studio sees them: stored choices over the deployment's defaults,
and which options exist (interface languages, narration languages, voices, subtitle styles)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from storage import UserRecord

from ..catalog import (
    DEFAULT_STYLE,
    ELEVENLABS_DEFAULT_VOICE,
    GEMINI_DEFAULT_VOICE,
    LANGUAGES,
    STYLES,
)
from ..errors import UnknownOption
from ..settings import Settings

logger = logging.getLogger(__name__)

UI_LANGUAGES = ("en", "ru", "es", "de", "fr", "it", "pt")
NARRATION_LANGUAGES = LANGUAGES

# Voices a user can pick, per engine. espeak voices are per language; the cloud engines' voices
# are multilingual. An engine ignores a voice it does not know (see the adapters), so a choice
# survives a fallback to another engine.
ESPEAK_VOICE_OPTIONS: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en", "en-gb-x-rp", "en-gb-scotland"),
    "ru": ("ru", "ru-lv"),
    "es": ("es", "es-419"),
    "de": ("de",),
    "fr": ("fr-fr", "fr-be", "fr-ch"),
    "it": ("it",),
    "pt": ("pt-br", "pt"),
}
GEMINI_VOICE_OPTIONS = (GEMINI_DEFAULT_VOICE, "Puck", "Charon", "Aoede", "Fenrir", "Leda")
ELEVENLABS_VOICE_OPTIONS = (
    ELEVENLABS_DEFAULT_VOICE,  # Rachel
    "EXAVITQu4vr4xnSDxMaL",  # Sarah
    "pNInz6obpgDQGcFmaJgB",  # Adam
    "ErXwobaYiN019PkySvjV",  # Antoni
)
VOICE_LABELS = {
    ELEVENLABS_DEFAULT_VOICE: "Rachel",
    "EXAVITQu4vr4xnSDxMaL": "Sarah",
    "pNInz6obpgDQGcFmaJgB": "Adam",
    "ErXwobaYiN019PkySvjV": "Antoni",
}


def voice_options(engine: str, language: str) -> tuple[str, ...]:
    if engine == "elevenlabs":
        return ELEVENLABS_VOICE_OPTIONS
    if engine == "gemini":
        return GEMINI_VOICE_OPTIONS
    return ESPEAK_VOICE_OPTIONS.get(language, ())


def voice_label(voice: str | None) -> str | None:
    return None if voice is None else VOICE_LABELS.get(voice, voice)


@dataclass(frozen=True, slots=True)
class Preferences:
    """Effective settings. ``ui_language`` is None until the user picks one: fronts then use
    the client's language."""

    ui_language: str | None
    language: str
    voice: str | None
    style: str
    music: bool = True  # a music bed under the reels (pipeline.stages.music.with_preference)

    @classmethod
    def resolve(cls, record: UserRecord | None, settings: Settings) -> Preferences:
        record = record or UserRecord(user_id="")
        return cls(
            ui_language=record.ui_language,
            language=record.language or settings.default_language,
            voice=record.voice if record.voice is not None else settings.default_voice,
            style=record.style or settings.default_style or DEFAULT_STYLE,
            music=record.music if record.music is not None else settings.music_enabled,
        )


def checked(choices: Mapping[str, object], current: Preferences, engine: str) -> dict[str, Any]:
    """``choices`` if every one is an option, else UnknownOption. A new narration language
    resets the voice, which belongs to one language. ``music`` is True or False."""
    language = str(choices.get("language") or current.language)
    allowed: dict[str, Callable[[object], bool]] = {
        "ui_language": lambda value: value in UI_LANGUAGES,
        "language": lambda value: value in NARRATION_LANGUAGES,
        "style": lambda value: value in STYLES,
        "voice": lambda value: value is None or value in voice_options(engine, language),
        "music": lambda value: isinstance(value, bool),
    }
    for name, value in choices.items():
        check = allowed.get(name)
        if check is None or not check(value):
            raise UnknownOption(f"{name}={value!r} is not an option", params={"option": name})
    if "language" in choices and "voice" not in choices:
        return {**choices, "voice": None}
    return dict(choices)
