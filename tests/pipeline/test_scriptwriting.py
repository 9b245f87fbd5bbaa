"""scriptwriting.validate: the checks every drafted script passes, whichever LLM wrote it."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.models import Scene, Script
from pipeline.scriptwriting import validate
from tests.fakes.scripts import OCTOPUS


def script(sentences: tuple[str, ...] | list[str], language: str = "en") -> Script:
    return Script(
        title="Octopus", language=language, scenes=[Scene(narration=s) for s in sentences]
    )


@pytest.mark.parametrize("language", sorted(OCTOPUS))
def test_a_draft_in_the_asked_language_passes(language: str) -> None:
    # The draft's own language field may be wrong or missing; the asked one is kept.
    checked = validate(script(OCTOPUS[language], "xx"), language=language, seconds=30)
    assert checked.language == language
    assert [s.narration for s in checked.scenes] == list(OCTOPUS[language])


@pytest.mark.parametrize(
    ("written", "asked"), [("en", "de"), ("es", "pt"), ("fr", "es"), ("it", "fr"), ("ru", "en")]
)
def test_a_draft_in_another_language_is_rejected(written: str, asked: str) -> None:
    with pytest.raises(InputError) as caught:
        validate(script(OCTOPUS[written]), language=asked, seconds=30)
    assert caught.value.code == "error.draft_language"
    assert str(caught.value) == f"the draft is in {written}, not {asked}"


def test_a_mixed_draft_is_not_rejected_as_another_language() -> None:
    # Half German, half English: unsure, so neither German nor English is claimed.
    mixed = [*OCTOPUS["de"][:3], *OCTOPUS["en"][3:]]
    assert validate(script(mixed), language="de", seconds=30).language == "de"


def test_a_language_outside_the_narration_languages_is_not_checked() -> None:
    assert validate(script(OCTOPUS["es"]), language="nl", seconds=30).language == "nl"


def test_empty_scenes_are_dropped_and_an_empty_draft_refused() -> None:
    kept = validate(script(["", *OCTOPUS["it"][:2], "  "]), language="it", seconds=30)
    assert len(kept.scenes) == 2
    with pytest.raises(InputError) as caught:
        validate(script(["", " "]), language="it", seconds=30)
    assert caught.value.code == "error.draft_empty"


def test_a_draft_too_long_for_its_length_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        validate(script(OCTOPUS["pt"] * 3), language="pt", seconds=20)
    assert caught.value.code == "error.draft_too_long"
