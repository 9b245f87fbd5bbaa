"""The catalogs are complete: every language has every key, with the same placeholders, and
every message the code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.presenters import PROGRESS_STEPS
from locales import DEFAULT_LOCALE, LOCALES, catalog, negotiate, placeholders, translator
from pipeline.catalog import STYLES

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"""code\s*=\s*"([a-z_]+\.[a-z_]+)\"""")
# t("key"...), say(t, "key"...), t('key'...)
ASKED = re.compile(r"""\b(?:t|say)\((?:t,\s*)?["']([a-z_]+\.[a-z_.-]+)["']""")


def _sources(*folders: str) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_every_language_has_every_key_with_the_same_placeholders(locale: str) -> None:
    english, other = catalog(DEFAULT_LOCALE), catalog(locale)
    assert set(other) == set(english), (
        f"{locale}: missing {sorted(set(english) - set(other))}, "
        f"extra {sorted(set(other) - set(english))}"
    )
    for key, template in english.items():
        assert other[key].strip(), f"{locale}: {key} is empty"
        assert placeholders(other[key]) == placeholders(template), f"{locale}: {key}"


def test_every_error_code_of_the_pipeline_has_a_message() -> None:
    codes = set(CODE.findall(_sources("pipeline", "storage")))
    assert "error.quota" in codes and "error.not_owner" in codes
    assert codes <= set(catalog(DEFAULT_LOCALE)), sorted(codes - set(catalog(DEFAULT_LOCALE)))


def test_every_message_the_fronts_ask_for_exists() -> None:
    asked = set(ASKED.findall(_sources("bot")))
    asked |= {f"progress.{step}" for step in PROGRESS_STEPS}
    asked |= {f"style.{name}" for name in STYLES}
    from bot.telegram.texts import COMMANDS

    asked |= {f"command.{name}" for name in COMMANDS}
    assert len(asked) > 40
    assert asked <= set(catalog(DEFAULT_LOCALE)), sorted(asked - set(catalog(DEFAULT_LOCALE)))


def test_negotiation() -> None:
    assert negotiate(None, "ru") == "ru"
    assert negotiate("es", "ru") == "es"
    assert negotiate(None, "pt-BR") == "en"
    assert negotiate("ES_mx") == "es"
    assert negotiate(None, None) == "en"


def test_translator_formats_and_falls_back() -> None:
    t = translator("ru")
    assert t("error.quota", limit=3, reset="00:00 UTC") == (
        "Дневной лимит сборок (3) исчерпан. Он обновится в 00:00 UTC."
    )
    assert translator("xx").locale == "en"
    assert t("no.such.key") == "no.such.key"
    assert "{limit}" in t("error.quota", reset="now")  # a missing parameter stays visible


@pytest.mark.parametrize("locale", LOCALES)
def test_shared_messages_name_no_front(locale: str) -> None:
    """Messages both fronts use spell no front's commands or name: those come as parameters
    (``{cmd_script}``); only ``*.telegram`` and ``*.discord`` keys are a front's own."""
    spelled = re.compile(
        r"(?<![\w{])/(new|script|language|voice|style|reel|settings)\b|Telegram|Discord"
    )
    shared = {k: v for k, v in catalog(locale).items() if not k.endswith((".telegram", ".discord"))}
    offenders = sorted(key for key, text in shared.items() if spelled.search(text))
    assert not offenders, offenders


def test_fronts_spell_their_commands() -> None:
    from bot.telegram.texts import telegram_translator

    text = telegram_translator("en")("error.no_llm")
    assert "/script" in text and "{" not in text
