"""The catalog lists a voice for every narration language on every engine."""

from __future__ import annotations

import pytest

from pipeline import catalog
from pipeline.adapters.gemini.speech import VOICES as GEMINI_SPEECH_VOICES
from pipeline.studio.preferences import NARRATION_LANGUAGES


@pytest.mark.parametrize("language", catalog.LANGUAGES)
def test_every_narration_language_has_voices_on_every_engine(language: str) -> None:
    voices = catalog.VOICES[language]
    assert voices.espeak and catalog.ESPEAK_VOICES[language] == voices.espeak[0]
    assert voices.gemini[0] == catalog.GEMINI_DEFAULT_VOICE
    assert set(voices.gemini) <= GEMINI_SPEECH_VOICES
    assert voices.elevenlabs[0] == catalog.ELEVENLABS_DEFAULT_VOICE
    assert set(voices.elevenlabs) <= set(catalog.ELEVENLABS_VOICE_NAMES)
    for name, model in catalog.ELEVENLABS_MODELS.items():
        assert voices.elevenlabs_language_code in model.languages, name


def test_the_default_models_are_listed() -> None:
    assert catalog.ELEVENLABS_TTS_MODEL in catalog.ELEVENLABS_MODELS
    assert set(NARRATION_LANGUAGES) == set(catalog.VOICES) == set(catalog.LANGUAGES)
