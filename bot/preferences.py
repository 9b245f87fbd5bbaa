"""The settings screens of every front: what each setting says and which options it offers,
and applying a choice. A front only turns ``Option``s into its own buttons or selects."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from locales import ENDONYMS, Translator, negotiate
from pipeline.catalog import STYLES
from pipeline.studio import NARRATION_LANGUAGES, UI_LANGUAGES, Preferences, Studio, voice_label

from .presenters import Markup

logger = logging.getLogger(__name__)

DEFAULT = "-"  # the option meaning "no choice of mine: the deployment's default"


class Setting(StrEnum):
    UI_LANGUAGE = "ui"
    LANGUAGE = "lang"
    VOICE = "voice"
    STYLE = "style"
    MUSIC = "music"


FIELDS = {
    Setting.UI_LANGUAGE: "ui_language",
    Setting.LANGUAGE: "language",
    Setting.VOICE: "voice",
    Setting.STYLE: "style",
    Setting.MUSIC: "music",
}
ON, OFF = "on", "off"
# The screen each setting is shown on: both languages share one.
SCREENS = {
    Setting.UI_LANGUAGE: Setting.LANGUAGE,
    Setting.LANGUAGE: Setting.LANGUAGE,
    Setting.VOICE: Setting.VOICE,
    Setting.STYLE: Setting.STYLE,
    Setting.MUSIC: Setting.MUSIC,
}


@dataclass(frozen=True, slots=True)
class Option:
    setting: Setting
    value: str  # an option's id, or DEFAULT
    label: str
    chosen: bool

    @property
    def ticked(self) -> str:
        return f"✓ {self.label}" if self.chosen else self.label


@dataclass(frozen=True, slots=True)
class Screen:
    setting: Setting  # LANGUAGE, VOICE or STYLE
    text: str  # in the front's markup
    options: list[Option]


def screen(
    setting: Setting, prefs: Preferences, t: Translator, m: Markup, studio: Studio
) -> Screen:
    setting = SCREENS[setting]
    if setting is Setting.LANGUAGE:
        return _languages(prefs, t, m)
    if setting is Setting.VOICE:
        return _voices(prefs, t, m, studio)
    if setting is Setting.MUSIC:
        return _music(prefs, t, m)
    return _styles(prefs, t, m)


def _languages(prefs: Preferences, t: Translator, m: Markup) -> Screen:
    text = t(
        "settings.language",
        ui=ENDONYMS.get(t.locale, t.locale),
        narration=ENDONYMS.get(prefs.language, prefs.language),
    )
    options = [
        Option(Setting.UI_LANGUAGE, code, f"🖥 {ENDONYMS[code]}", code == t.locale)
        for code in UI_LANGUAGES
    ] + [
        Option(Setting.LANGUAGE, code, f"🎙 {ENDONYMS.get(code, code)}", code == prefs.language)
        for code in NARRATION_LANGUAGES
    ]
    return Screen(Setting.LANGUAGE, m.escape(text), options)


def _voices(prefs: Preferences, t: Translator, m: Markup, studio: Studio) -> Screen:
    current = voice_label(prefs.voice) or t("settings.voice_default")
    language = ENDONYMS.get(prefs.language, prefs.language)
    text = t("settings.voice", language=language, voice=current)
    chosen = prefs.voice or DEFAULT
    options = [Option(Setting.VOICE, DEFAULT, t("settings.voice_default"), chosen == DEFAULT)]
    options += [
        Option(Setting.VOICE, voice, voice_label(voice) or voice, chosen == voice)
        for voice in studio.voice_options(prefs.language)
    ]
    return Screen(Setting.VOICE, m.escape(text), options)


def _styles(prefs: Preferences, t: Translator, m: Markup) -> Screen:
    text = t("settings.style", style=t(f"style.{prefs.style}"))
    options = [
        Option(Setting.STYLE, name, t(f"style.{name}"), name == prefs.style) for name in STYLES
    ]
    return Screen(Setting.STYLE, m.escape(text), options)


def _music(prefs: Preferences, t: Translator, m: Markup) -> Screen:
    state = t("music.on") if prefs.music else t("music.off")
    options = [
        Option(Setting.MUSIC, ON, t("music.on"), prefs.music),
        Option(Setting.MUSIC, OFF, t("music.off"), not prefs.music),
    ]
    return Screen(Setting.MUSIC, m.escape(t("settings.music", state=state)), options)


def _value(setting: Setting, value: str) -> str | bool | None:
    if value == DEFAULT:
        return None
    if setting is Setting.MUSIC:
        return value == ON
    return value


async def choose(
    studio: Studio, owner: str, setting: Setting, value: str, t: Translator
) -> tuple[Preferences, Translator]:
    """Store a choice; the preferences after it, and the translator to answer in (a new
    interface language answers in itself)."""
    prefs = await studio.update_preferences(owner, **{FIELDS[setting]: _value(setting, value)})
    if setting is Setting.UI_LANGUAGE:
        t = t.switch(negotiate(prefs.ui_language))
    return prefs, t
