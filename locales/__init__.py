"""Message catalogs shared by every chat front: one flat JSON file per language.

    t = translator("ru")
    t("error.quota", limit=5, reset="00:00 UTC")

JSON needs no build step (gettext needs compiled .mo files) and any front can use a catalog
with an explicit locale: Telegram negotiates it from the user's choice or ``language_code``,
Discord from the interaction's locale. Placeholders use ``str.format`` syntax (``{limit}``).
A key missing from a catalog falls back to English, then to the key itself, so a gap shows as
an odd word rather than an exception in front of a user; tests/test_locales.py keeps the
catalogs complete.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

logger = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
LOCALES = ("en", "ru", "es", "de", "fr", "it", "pt")
# Language names in their own language: the same in every catalog, so not translated.
ENDONYMS = {
    "en": "English",
    "ru": "Русский",
    "es": "Español",
    "de": "Deutsch",
    "fr": "Français",
    "it": "Italiano",
    "pt": "Português",
}


@cache
def catalog(locale: str) -> Mapping[str, str]:
    """The messages of ``locale`` (one of LOCALES)."""
    if locale not in LOCALES:
        raise KeyError(f"no catalog for locale {locale!r}")
    text = resources.files(__name__).joinpath(f"{locale}.json").read_text(encoding="utf-8")
    messages = json.loads(text)
    if not isinstance(messages, dict) or not all(
        isinstance(value, str) for value in messages.values()
    ):
        raise ValueError(f"locales/{locale}.json must map keys to strings")
    return messages


def negotiate(*candidates: str | None) -> str:
    """The first candidate with a catalog (``"pt-BR"`` matches ``"pt"``), else English."""
    for candidate in candidates:
        if not candidate:
            continue
        primary = candidate.replace("_", "-").split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return DEFAULT_LOCALE


def placeholders(template: str) -> set[str]:
    """The names a message needs, e.g. ``{"limit", "reset"}``."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class _Lenient(dict[str, object]):
    def __missing__(self, key: str) -> str:
        logger.warning("locale message is missing the parameter %r", key)
        return "{" + key + "}"


class Translator:
    """Messages of one locale. Call it with a key and the message's parameters.

    ``defaults`` fill parameters a front knows and a message only names: how the front spells
    its commands (``{cmd_script}`` is ``/script`` on Telegram, ``/reel script:`` on Discord),
    so one catalog serves every front.
    """

    def __init__(self, locale: str, defaults: Mapping[str, str] | None = None) -> None:
        self.locale = negotiate(locale)
        self.defaults: Mapping[str, str] = dict(defaults or {})

    def switch(self, locale: str) -> Translator:
        """The same front's messages in another locale."""
        return Translator(locale, self.defaults)

    def __call__(self, key: str, /, **params: object) -> str:
        template = catalog(self.locale).get(key)
        if template is None:
            template = catalog(DEFAULT_LOCALE).get(key)
            if template is None:
                logger.warning("no message %r in any catalog", key)
                return key
        return template.format_map(_Lenient({**self.defaults, **params}))

    def has(self, key: str) -> bool:
        return key in catalog(DEFAULT_LOCALE)

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"


@cache
def _translator(locale: str, defaults: tuple[tuple[str, str], ...]) -> Translator:
    return Translator(locale, dict(defaults))


def translator(locale: str, defaults: Mapping[str, str] | None = None) -> Translator:
    return _translator(negotiate(locale), tuple(sorted((defaults or {}).items())))


def keys(locales: Iterable[str] = LOCALES) -> dict[str, set[str]]:
    return {locale: set(catalog(locale)) for locale in locales}


__all__ = [
    "DEFAULT_LOCALE",
    "ENDONYMS",
    "LOCALES",
    "Translator",
    "catalog",
    "keys",
    "negotiate",
    "placeholders",
    "translator",
]
