"""ElevenLabs Forced Alignment through the real SDK, over HTTP, against tests.fakes.elevenlabs;
and its place in the alignment chain, before Groq Whisper."""

from __future__ import annotations

import logging
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline import catalog, providers
from pipeline.adapters.elevenlabs_alignment import ElevenLabsAligner
from pipeline.adapters.gemini import GeminiSpeech
from pipeline.adapters.groq import GroqWhisperAligner
from pipeline.chain import first_success
from pipeline.errors import ProviderError
from pipeline.models import Scene, Script, VoiceChoice
from pipeline.settings import Settings
from pipeline.stages import voice as voice_stage
from pipeline.stages.base import JobContext
from pipeline.text import script_words
from tests.fakes.elevenlabs import FakeElevenLabs, bad_schema, hang, malformed, ok, status
from tests.fakes.gemini import FakeGemini
from tests.fakes.groq import FakeGroq, spread
from tests.fakes.scripts import OCTOPUS

KEY = "sk_test_alignment_key"
SECONDS = 4.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeElevenLabs]:
    async with FakeElevenLabs() as server:
        yield server


@pytest.fixture
async def aligner(fake: FakeElevenLabs) -> AsyncIterator[ElevenLabsAligner]:
    adapter = ElevenLabsAligner(KEY, base_url=fake.base_url, timeout=5.0, attempts=3)
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
def script() -> Script:
    return Script(
        title="Oktopus",
        language="de",
        scenes=[Scene(narration=OCTOPUS["de"][2]), Scene(narration=OCTOPUS["de"][5])],
    )


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(24_000)
        writer.writeframes(bytes(2 * round(SECONDS * 24_000)))
    return path


async def test_aligns_the_known_text(
    aligner: ElevenLabsAligner, fake: FakeElevenLabs, script: Script, audio: Path
) -> None:
    words = await aligner.align(audio, script, "de")
    assert [(w.text, w.scene) for w in words] == [(w.text, w.scene) for w in script_words(script)]
    # The service's times, word for word (its " " entries between words left out).
    expected = spread(script.narration.split(), SECONDS)
    assert [(w.start, w.end) for w in words] == [(e["start"], e["end"]) for e in expected]
    assert all(b.start >= a.end > a.start for a, b in zip(words, words[1:], strict=False))

    [request] = fake.requests
    assert (request.route, request.path) == ("alignment", "/v1/forced-alignment")
    assert request.headers["xi-api-key"] == KEY
    assert request.form == {"text": [script.narration]}
    assert request.file == ("voice.wav", audio.read_bytes())


async def test_429_then_success(
    aligner: ElevenLabsAligner, fake: FakeElevenLabs, script: Script, audio: Path
) -> None:
    fake.enqueue(status(429, retry_after=0.1))
    words, attempts = await aligner.policy.call(lambda: aligner.align(audio, script, "de"))
    assert attempts == 2 and len(fake.requests) == 2  # the SDK's own retries are off
    assert [w.text for w in words] == [w.text for w in script_words(script)]


async def test_a_hang_times_out_and_the_retry_succeeds(
    aligner: ElevenLabsAligner, fake: FakeElevenLabs, script: Script, audio: Path
) -> None:
    aligner.policy.timeout = 0.3
    fake.enqueue(hang())
    words, attempts = await aligner.policy.call(lambda: aligner.align(audio, script, "de"))
    assert words and attempts == 2


async def _chain(
    aligner: ElevenLabsAligner, script: Script, audio: Path
) -> tuple[str, int, list[str], FakeGroq]:
    async with FakeGroq(expected_text=script.narration) as groq:
        whisper = GroqWhisperAligner("gsk_test", base_url=groq.base_url, timeout=5, attempts=1)
        try:
            served = await first_success(
                [aligner, whisper], lambda a: a.align(audio, script, "de"), stage="align"
            )
        finally:
            await whisper.aclose()
    return served.provider, served.attempts, [w.text for w in served.value], groq


async def test_a_5xx_that_persists_falls_through_to_whisper(
    aligner: ElevenLabsAligner, fake: FakeElevenLabs, script: Script, audio: Path
) -> None:
    fake.enqueue(status(500), status(503), status(500))
    provider, attempts, words, groq = await _chain(aligner, script, audio)
    assert provider == "groq" and words == [w.text for w in script_words(script)]
    assert len(fake.requests) == 3 and len(groq.of("transcriptions")) == 1
    assert attempts == 4


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (malformed(), "not the expected JSON"),
        (bad_schema(), "no words"),
        (ok(body=[1, 2]), "malformed response"),
        (ok(body={"words": [{"text": "Das", "start": "soon"}]}), "unreadable word"),
        (ok(body={"words": [{"text": " ", "start": 0.0, "end": 0.1}]}), "no words"),
        (status(422), "HTTP 422"),
    ],
)
async def test_garbage_is_not_retried_and_falls_through_to_whisper(
    aligner: ElevenLabsAligner,
    fake: FakeElevenLabs,
    script: Script,
    audio: Path,
    caplog: pytest.LogCaptureFixture,
    behaviour: object,
    message: str,
) -> None:
    fake.enqueue(behaviour)  # type: ignore[arg-type]
    provider, attempts, words, groq = await _chain(aligner, script, audio)
    assert provider == "groq" and words == [w.text for w in script_words(script)]
    assert len(fake.requests) == 1 and attempts == 2
    assert any(message in r.getMessage() for r in caplog.records if r.name == "pipeline.chain")


async def test_errors_name_no_secret(
    aligner: ElevenLabsAligner,
    fake: FakeElevenLabs,
    script: Script,
    audio: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(status(401))
    with pytest.raises(ProviderError, match="HTTP 401") as caught:
        await aligner.align(audio, script, "de")
    assert not caught.value.retryable
    assert KEY not in str(caught.value) and KEY not in caplog.text


async def test_a_script_without_words_needs_no_request(
    aligner: ElevenLabsAligner, fake: FakeElevenLabs, audio: Path
) -> None:
    empty = Script(title="t", scenes=[Scene(narration="  ")])
    assert await aligner.align(audio, empty, "de") == []
    assert fake.requests == []


async def test_gemini_tts_is_aligned_by_elevenlabs_first(
    aligner: ElevenLabsAligner,
    fake: FakeElevenLabs,
    script: Script,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """The voice stage: Gemini speaks (no timings), forced alignment times the words, and
    Whisper, next in the chain, is never asked."""
    work = tmp_path / "job"
    work.mkdir()
    style = catalog.STYLES[catalog.DEFAULT_STYLE]
    ctx = JobContext("job-1", script, work, VoiceChoice(language="de"), style, settings)
    async with FakeGemini() as gemini, FakeGroq() as groq:
        speech = GeminiSpeech("gk", base_url=gemini.base_url, timeout=5, attempts=1)
        whisper = GroqWhisperAligner("gsk_test", base_url=groq.base_url, timeout=5, attempts=1)
        try:
            served = await voice_stage.run(ctx, [speech], [aligner, whisper])
        finally:
            await speech.aclose()
            await whisper.aclose()
        assert groq.requests == []
    assert served.provider == "gemini"
    assert [w.text for w in served.value.words] == [w.text for w in script_words(script)]
    [request] = fake.of("alignment")
    assert request.file is not None and request.file[1] == voice_stage.audio_path(ctx).read_bytes()


async def _chains(settings: Settings, **keys: str) -> dict[str, list[str]]:
    configured = Settings.model_validate({**settings.model_dump(), **keys})
    built = providers.build(configured, parts=("media",))
    try:
        return built.describe()
    finally:
        await built.aclose()


async def test_the_chain_puts_forced_alignment_before_whisper(settings: Settings) -> None:
    both = await _chains(settings, elevenlabs_api_key="sk", groq_api_key="gsk")
    assert both["align"] == ["elevenlabs", "groq"]
    # With forced alignment alone, Gemini TTS has an aligner and joins the voice chain.
    alone = await _chains(settings, elevenlabs_api_key="sk", gemini_api_key="gk")
    assert alone["align"] == ["elevenlabs"]
    assert alone["voice"] == ["elevenlabs", "gemini", "espeak"]
    # Without either, Gemini TTS would give no subtitles: it is left out.
    neither = await _chains(settings, gemini_api_key="gk")
    assert neither["align"] == [] and neither["voice"] == ["espeak"]
