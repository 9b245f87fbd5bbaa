"""The espeak adapter against the real libespeak-ng from the wheel: no mocks, a few ms a script."""

from __future__ import annotations

import array
import asyncio
import wave
from pathlib import Path

import pytest

from pipeline import catalog
from pipeline.adapters.espeak import EspeakSynth
from pipeline.errors import InputError
from pipeline.models import Scene, Script, VoiceChoice, Voiceover
from pipeline.text import normalise, script_words
from tests.fakes.scripts import OCTOPUS

SCRIPTS = {
    "en": [
        "The octopus has three hearts and blue blood. Most of its neurons live in the arms.",
        "Each arm can taste, touch and decide on its own. It is a mind spread out in eight parts!",
    ],
    "ru": [
        "Осьминог — одно из самых странных животных в море. У него три сердца и голубая кровь.",
        "Каждое щупальце может решать само. Это разум, разделённый на восемь частей!",
    ],
    "es": [
        "El pulpo tiene tres corazones y la sangre azul. Sus neuronas viven en los brazos.",
        "¿Sabías que cada brazo decide por sí solo? ¡Es una mente repartida en ocho partes!",
    ],
}
SILENT = 64  # espeak's pauses are digital zeros


def make_script(language: str, *narrations: str) -> Script:
    return Script(title="t", language=language, scenes=[Scene(narration=n) for n in narrations])


async def speak(script: Script, out_dir: Path, **choice: object) -> Voiceover:
    voice = VoiceChoice.model_validate({"language": script.language, **choice})
    return await EspeakSynth().synthesize(script, voice, out_dir)


def read_samples(voiceover: Voiceover) -> array.array[int]:
    with wave.open(str(voiceover.audio_path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() == voiceover.sample_rate == 22050
        assert wav.getnframes() / wav.getframerate() == pytest.approx(voiceover.duration)
        return array.array("h", wav.readframes(wav.getnframes()))


def assert_well_timed(voiceover: Voiceover, script: Script) -> None:
    expected = [(word.text, word.scene) for word in script_words(script)]
    assert [(word.text, word.scene) for word in voiceover.words] == expected
    previous_end = 0.0
    for word in voiceover.words:
        assert previous_end <= word.start < word.end <= voiceover.duration, word
        previous_end = word.end


def assert_same_timings(first: Voiceover, second: Voiceover) -> None:
    """espeak's wave generator keeps state between calls that even re-initialising does not
    reset, so the same text comes out up to ~15 ms different from one call to the next."""
    assert [w.text for w in first.words] == [w.text for w in second.words]
    for one, other in zip(first.words, second.words, strict=True):
        assert one.start == pytest.approx(other.start, abs=0.04)
        assert one.end == pytest.approx(other.end, abs=0.04)


def onset_after(samples: array.array[int], seconds: float, rate: int = 22050) -> float:
    """Seconds from ``seconds`` to the first audible sample."""
    start = int(seconds * rate)
    for index in range(start, len(samples)):
        if abs(samples[index]) > 300:
            return (index - start) / rate
    return float("inf")


@pytest.mark.parametrize("language", sorted(SCRIPTS))
async def test_speaks_every_word_with_timings_that_match_the_audio(
    language: str, tmp_path: Path
) -> None:
    script = make_script(language, *SCRIPTS[language])
    voiceover = await speak(script, tmp_path)

    assert voiceover.provider == "espeak"
    assert voiceover.audio_path == tmp_path / "voice.wav"
    samples = read_samples(voiceover)
    assert_well_timed(voiceover, script)
    # Words after a sentence pause start where speech resumes: a wrong offset mapping (bytes
    # counted instead of characters in Cyrillic) would put them seconds away.
    after_pause = [
        word
        for before, word in zip(voiceover.words, voiceover.words[1:], strict=False)
        if word.scene == before.scene and word.start - before.end > 0.1 and normalise(word.text)
    ]
    assert len(after_pause) >= 2
    for word in after_pause:
        assert onset_after(samples, word.start) < 0.1, word


async def test_short_words_merged_by_espeak_are_still_timed(tmp_path: Path) -> None:
    script = make_script("en", "A piece of the cake and a cup of the tea, in the shade of a tree.")
    voiceover = await speak(script, tmp_path)

    assert_well_timed(voiceover, script)
    # espeak raises one WORD event for "of the"; the "the" still gets its own slice of time.
    words = voiceover.words
    for index, word in enumerate(words[:-1]):
        if word.text == "the":
            assert words[index - 1].start < word.start < words[index + 1].start


async def test_scenes_are_split_by_the_scene_pause(tmp_path: Path) -> None:
    script = make_script("en", "First scene ends here.", "Second scene starts here.")
    voiceover = await speak(script, tmp_path)

    samples = read_samples(voiceover)
    last = [w for w in voiceover.words if w.scene == 0][-1]
    first = next(w for w in voiceover.words if w.scene == 1)
    assert first.start - last.end >= 0.4
    gap = samples[int((last.end + 0.05) * 22050) : int((first.start - 0.05) * 22050)]
    assert max(map(abs, gap)) < SILENT
    assert onset_after(samples, first.start) < 0.1


async def test_a_faster_rate_gives_shorter_audio(tmp_path: Path) -> None:
    script = make_script("en", SCRIPTS["en"][0])
    slow = await speak(script, tmp_path / "slow", rate=130)
    fast = await speak(script, tmp_path / "fast", rate=260)

    assert fast.duration < slow.duration * 0.7
    assert_well_timed(fast, script)


async def test_unknown_language_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        await speak(make_script("xx", "Hello."), tmp_path)

    assert caught.value.code == "error.language"
    assert not (tmp_path / "voice.wav").exists()


async def test_a_voice_espeak_lacks_falls_back_to_the_language_voice(tmp_path: Path) -> None:
    script = make_script("ru", "Привет, мир.")
    default = await speak(script, tmp_path / "default")
    foreign = await speak(script, tmp_path / "foreign", voice="21m00Tcm4TlvDq8ikWAM")

    assert_same_timings(foreign, default)
    with pytest.raises(InputError):
        await speak(make_script("xx", "Hello."), tmp_path, voice="no-such-voice")


async def test_an_explicit_voice_is_used(tmp_path: Path) -> None:
    script = make_script("en", "Good morning.")
    american = await speak(script, tmp_path / "us")
    british = await speak(script, tmp_path / "gb", voice="en-gb")

    assert (tmp_path / "gb" / "voice.wav").read_bytes() != (
        tmp_path / "us" / "voice.wav"
    ).read_bytes()
    assert_well_timed(british, script)
    assert_well_timed(american, script)


async def test_hostile_text_is_spoken_as_plain_text(tmp_path: Path) -> None:
    script = make_script("en", "{\\b1} <speak> \x00", '<break time="9s"/> \x1b[31m \ud800 ok')
    voiceover = await speak(script, tmp_path)

    read_samples(voiceover)
    assert_well_timed(voiceover, script)
    # Read as markup, the break tag would add nine seconds of silence.
    assert voiceover.duration < 9


async def test_a_script_with_nothing_to_say_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        await speak(make_script("en", "   "), tmp_path)
    with pytest.raises(InputError):
        await speak(make_script("en", "\x00 \x01"), tmp_path)


async def test_concurrent_calls_do_not_share_state(tmp_path: Path) -> None:
    english, russian = make_script("en", *SCRIPTS["en"]), make_script("ru", *SCRIPTS["ru"])
    alone = [await speak(english, tmp_path / "en1"), await speak(russian, tmp_path / "ru1")]

    together = await asyncio.gather(
        speak(english, tmp_path / "en2"),
        speak(russian, tmp_path / "ru2", rate=300),
        speak(russian, tmp_path / "ru3"),
    )

    assert_same_timings(together[0], alone[0])
    assert_same_timings(together[2], alone[1])
    assert together[1].duration < alone[1].duration


@pytest.mark.parametrize(
    ("language", "name"),
    [(language, name) for language, voices in catalog.VOICES.items() for name in voices.espeak],
)
async def test_every_catalog_voice_speaks_its_language(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, language: str, name: str
) -> None:
    # The catalog once named "fr-fr", which espeak-ng does not know: French narration failed.
    # An unknown chosen voice would fall back to the default with a warning; none may appear.
    sentence = OCTOPUS[language][0]
    voiceover = await speak(make_script(language, sentence), tmp_path, voice=name)
    assert [w.text for w in voiceover.words] == sentence.split()
    assert voiceover.duration > 0.5
    assert "espeak has no voice" not in caplog.text


async def test_an_unknown_voice_is_reported(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # The check above relies on this warning.
    await speak(make_script("fr", OCTOPUS["fr"][0]), tmp_path, voice="fr-fr")
    assert "espeak has no voice 'fr-fr'" in caplog.text
