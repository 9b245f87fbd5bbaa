"""The catalogs are complete: every language has every key, with the same placeholders, and
every message the code asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.presenters import PROGRESS_STEPS
from locales import DEFAULT_LOCALE, ENDONYMS, LOCALES, catalog, negotiate, placeholders, translator
from pipeline.catalog import STYLES
from pipeline.language_id import MIN_CONFIDENCE, detect_language
from pipeline.language_id import load as language_model
from pipeline.studio import UI_LANGUAGES

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
    assert negotiate("ES_mx") == "es"
    assert negotiate(None, None) == "en"
    assert negotiate("", "ja", "ru") == "ru"  # the first candidate with a catalog wins


@pytest.mark.parametrize(
    ("client", "locale"),
    [
        ("pt-BR", "pt"),  # Discord's interaction.locale for Brazilian Portuguese
        ("de-AT", "de"),
        ("fr-CA", "fr"),
        ("it", "it"),  # Telegram's language_code is often the bare language
        ("de", "de"),
        ("ja", "en"),
        ("zh-TW", "en"),
        ("x-unknown", "en"),
    ],
)
def test_a_clients_language_picks_its_catalog(client: str, locale: str) -> None:
    assert negotiate(None, client) == locale
    assert translator(client).locale == locale


def test_every_catalog_is_offered_as_an_interface_language() -> None:
    assert set(UI_LANGUAGES) == set(LOCALES)
    assert all(ENDONYMS[code] for code in LOCALES)
    assert [ENDONYMS[code] for code in ("de", "fr", "it", "pt")] == [
        "Deutsch",
        "Français",
        "Italiano",
        "Português",
    ]


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


PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _longer_messages(locale: str, letters: int = 40) -> list[str]:
    """The shared messages with at least ``letters`` letters, placeholders removed (the fronts'
    own texts name commands, which are English words in every language)."""
    messages = (
        PLACEHOLDER.sub("", text)
        for key, text in catalog(locale).items()
        if not key.endswith((".telegram", ".discord"))
    )
    return [text for text in messages if sum(char.isalpha() for char in text) >= letters]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_catalog_is_written_in_its_language(locale: str) -> None:
    """py3langid on the catalog as a whole, then on each longer message: an untranslated
    catalog, a catalog in the wrong language or a message left in English fails."""
    longer = _longer_messages(locale)
    assert len(longer) >= 20, longer
    assert detect_language("\n".join(longer)) == locale
    model = language_model()
    strays = []
    for text in longer:
        said, confidence = model.classify(text)
        if said != locale and confidence >= MIN_CONFIDENCE:
            strays.append((said, text))
    assert not strays, strays


def test_the_language_check_catches_an_untranslated_message() -> None:
    german = _longer_messages("de")
    assert detect_language("\n".join(german)) == "de"
    english = _longer_messages("en")
    half = german[: len(german) // 2] + english[len(english) // 2 :]
    assert detect_language("\n".join(half)) != "de"
    said, confidence = language_model().classify(english[0])
    assert said == "en" and confidence >= MIN_CONFIDENCE


# Quotation marks each language uses around a quoted topic; French puts no-break spaces inside.
QUOTES = {
    "en": ("“", "”"),
    "ru": ("«", "»"),
    "es": ("«", "»"),
    "de": ("„", "“"),
    "fr": ("«\u00a0", "\u00a0»"),
    "it": ("«", "»"),
    "pt": ("“", "”"),
}


@pytest.mark.parametrize("locale", LOCALES)
def test_quotes_follow_the_languages_typography(locale: str) -> None:
    opening, closing = QUOTES[locale]
    working = catalog(locale)["draft.working"]
    assert f"{opening}{{topic}}{closing}" in working, working
    others = set('“”„«»"') - set(opening + closing)
    for key, text in catalog(locale).items():
        assert not others & set(text), f"{locale}: {key} has a foreign quotation mark: {text}"


def test_french_puts_a_no_break_space_before_double_punctuation() -> None:
    for key, text in catalog("fr").items():
        text = re.sub(r"/reel \w+:", "", text)  # a Discord option name is not prose
        bad = re.findall(r"[^\u00a0][:;!?]", text)
        assert not bad, f"fr: {key}: {bad}"


# Words of the address each catalog does not use: German and Italian say du/tu, French vous,
# Brazilian Portuguese você. Capitalised Sie/Ihr mid-sentence is the German formal address.
OTHER_REGISTER = {
    "de": r"(?<=[a-zäöüß,] )(?:Sie|Ihnen|Ihre?[mnrs]?)\b",
    "fr": r"(?i)\b(?:tu|toi|ton|ta|tes|te)\b|\bt’",
    "it": r"\b(?:Lei|La prego|Suo|Sua|Suoi|Sue)\b",
    "pt": r"(?i)\b(?:tu|teu|tua|teus|tuas|contigo)\b",
}


@pytest.mark.parametrize("locale", sorted(OTHER_REGISTER))
def test_each_catalog_keeps_one_form_of_address(locale: str) -> None:
    pattern = re.compile(OTHER_REGISTER[locale])
    offenders = {key: text for key, text in catalog(locale).items() if pattern.search(text)}
    assert not offenders, offenders
