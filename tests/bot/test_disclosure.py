"""Captions end with the AI disclosure line in the caption's language, and still fit."""

from __future__ import annotations

import pytest

from bot.presenters import HTML, MARKDOWN, reel_caption
from locales import LOCALES, translator
from pipeline.models import Scene, Script
from pipeline.settings import Settings
from tests.fakes.telegram import check_html, plain

URL = "https://cdn.test/r.mp4"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_caption_ends_with_the_ai_line_and_fits(locale: str) -> None:
    t = translator(locale)
    script = Script(title="T" * 1000, scenes=[Scene(narration="a")], hashtags=["#tag"] * 200)
    caption = reel_caption(script, URL, t, HTML, credit="Music: " + "m" * 200)
    assert check_html(caption) is None and len(plain(caption)) <= 1024
    assert caption.endswith("\n\n" + t("reel.ai_disclosure"))
    assert f'<a href="{URL}">' in caption  # the link stays too


def test_the_line_can_be_turned_off(settings: Settings) -> None:
    assert settings.ai_disclosure is True  # on by default
    t = translator("en")
    script = Script(title="Octopus hearts", scenes=[Scene(narration="a")], hashtags=["#sea"])
    with_line = reel_caption(script, None, t, MARKDOWN, limit=300)
    without = reel_caption(script, None, t, MARKDOWN, limit=300, disclosure=False)
    assert "Made with AI" in with_line and "AI" not in without
    assert without == "**Octopus hearts**\n\n\\#sea"
