"""The ElevenLabs adapter through the real SDK, over HTTP, against tests.fakes.elevenlabs."""

from __future__ import annotations

import base64
import logging
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline import catalog
from pipeline.adapters.elevenlabs import SAMPLE_RATE, ElevenLabsSynth
from pipeline.errors import InputError, ProviderError
from pipeline.models import Scene, Script, VoiceChoice
from pipeline.text import script_words
from tests.fakes.elevenlabs import FakeElevenLabs, bad_schema, hang, malformed, ok, status

KEY = "sk_test_secret_key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeElevenLabs]:
    async with FakeElevenLabs() as server:
        yield server


@pytest.fixture
async def synth(fake: FakeElevenLabs) -> AsyncIterator[ElevenLabsSynth]:
    adapter = ElevenLabsSynth(KEY, base_url=fake.base_url, timeout=5.0, attempts=3)
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
def script() -> Script:
    return Script(
        title="Octopus",
        scenes=[
            Scene(narration="Octopuses have three hearts, and blue blood!"),
            Scene(narration="Two pump blood to the gills — one to the body."),
        ],
    )


VOICE = VoiceChoice(language="en")


async def test_speaks_with_word_timings(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    voiceover = await synth.synthesize(script, VOICE, tmp_path)
    assert voiceover.audio_path == tmp_path / "voice.wav"
    assert (voiceover.provider, voiceover.sample_rate) == ("elevenlabs", SAMPLE_RATE)
    with wave.open(str(voiceover.audio_path)) as reader:
        assert (reader.getnchannels(), reader.getsampwidth()) == (1, 2)
        assert reader.getframerate() == SAMPLE_RATE
        assert reader.getnframes() == round(fake.spoken[0] * SAMPLE_RATE)
    assert voiceover.duration == pytest.approx(fake.spoken[0], abs=1 / SAMPLE_RATE)
    words = voiceover.words
    assert [(w.text, w.scene) for w in words] == [(w.text, w.scene) for w in script_words(script)]
    assert all(b.start >= a.end > a.start for a, b in zip(words, words[1:], strict=False))
    assert words[0].start == 0.05 and words[-1].end < voiceover.duration

    [request] = fake.requests
    assert request.path == f"/v1/text-to-speech/{catalog.ELEVENLABS_DEFAULT_VOICE}/with-timestamps"
    assert request.headers["xi-api-key"] == KEY
    assert request.query == {"output_format": "pcm_24000"}
    assert request.json == {"text": script.narration, "model_id": catalog.ELEVENLABS_TTS_MODEL}


async def test_voice_and_rate_are_sent(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    voice_id = "pNInz6obpgDQGcFmaJgB"
    await synth.synthesize(script, VoiceChoice(language="en", voice=voice_id, rate=200), tmp_path)
    await synth.synthesize(script, VoiceChoice(language="en", rate=120), tmp_path)
    assert fake.requests[0].path == f"/v1/text-to-speech/{voice_id}/with-timestamps"
    assert fake.requests[0].json["voice_settings"] == {"speed": 1.2}
    assert fake.requests[1].json["voice_settings"] == {"speed": 0.73}


@pytest.mark.parametrize("voice", ["Kore", "en-us", "../../v1/user", "21m00Tcm4TlvDq8ikWAM/x"])
async def test_a_voice_that_is_not_an_elevenlabs_id_falls_back_to_the_default(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path, voice: str
) -> None:
    await synth.synthesize(script, VoiceChoice(language="en", voice=voice), tmp_path)
    default = f"/v1/text-to-speech/{catalog.ELEVENLABS_DEFAULT_VOICE}/with-timestamps"
    assert fake.requests[0].path == default


@pytest.mark.parametrize("language", catalog.LANGUAGES)
async def test_multilingual_v2_gets_no_language_code(
    script: Script, tmp_path: Path, language: str
) -> None:
    # The strict fake answers 400 to language_code on multilingual v2, as one report says.
    async with FakeElevenLabs(strict_language_code=True) as strict:
        synth = ElevenLabsSynth(KEY, base_url=strict.base_url, timeout=5.0)
        try:
            voiceover = await synth.synthesize(script, VoiceChoice(language=language), tmp_path)
        finally:
            await synth.aclose()
    assert voiceover.words
    [request] = strict.requests
    assert request.json["model_id"] == "eleven_multilingual_v2"
    assert "language_code" not in request.json


@pytest.mark.parametrize("language", catalog.LANGUAGES)
async def test_a_model_that_takes_language_code_gets_it(
    fake: FakeElevenLabs, script: Script, tmp_path: Path, language: str
) -> None:
    synth = ElevenLabsSynth(KEY, base_url=fake.base_url, timeout=5.0, model="eleven_flash_v2_5")
    try:
        await synth.synthesize(script, VoiceChoice(language=language), tmp_path)
    finally:
        await synth.aclose()
    [request] = fake.requests
    assert request.json["model_id"] == "eleven_flash_v2_5"
    assert request.json["language_code"] == catalog.VOICES[language].elevenlabs_language_code
    assert request.json["language_code"] == language


@pytest.mark.parametrize(
    ("model", "language"), [("eleven_multilingual_v2", "hu"), ("eleven_flash_v2_5", "xx")]
)
async def test_a_language_the_model_does_not_speak_fails_before_any_request(
    fake: FakeElevenLabs, script: Script, tmp_path: Path, model: str, language: str
) -> None:
    synth = ElevenLabsSynth(KEY, base_url=fake.base_url, timeout=5.0, model=model)
    try:
        with pytest.raises(ProviderError, match=f"does not speak '{language}'") as caught:
            await synth.policy.call(
                lambda: synth.synthesize(script, VoiceChoice(language=language), tmp_path)
            )
    finally:
        await synth.aclose()
    # Not retryable: the voice chain moves on to the next engine at once.
    assert not caught.value.retryable and caught.value.attempts == 1
    assert fake.requests == []


def test_an_unknown_model_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown ElevenLabs model"):
        ElevenLabsSynth(KEY, model="eleven_monolingual_v0")


async def test_429_is_retried_after_retry_after(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    fake.enqueue(status(429, retry_after=1))
    began = time.perf_counter()
    voiceover, attempts = await synth.policy.call(lambda: synth.synthesize(script, VOICE, tmp_path))
    assert voiceover.words and attempts == 2
    assert 0.95 <= time.perf_counter() - began < 2.5
    # The SDK's own retries are off: one request per attempt.
    assert len(fake.requests) == 2


async def test_5xx_is_retried_then_fails_retryable(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    fake.enqueue(status(500), status(503), status(500))
    with pytest.raises(ProviderError) as caught:
        await synth.policy.call(lambda: synth.synthesize(script, VOICE, tmp_path))
    assert caught.value.retryable and caught.value.status == 500
    assert caught.value.attempts == 3 and len(fake.requests) == 3


async def test_client_errors_are_not_retried(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    fake.enqueue(status(401))
    with pytest.raises(ProviderError, match="HTTP 401: fake status 401") as caught:
        await synth.policy.call(lambda: synth.synthesize(script, VOICE, tmp_path))
    assert not caught.value.retryable and caught.value.attempts == 1


async def test_hang_times_out_and_the_retry_succeeds(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    synth.policy.timeout = 0.3
    fake.enqueue(hang())
    voiceover, attempts = await synth.policy.call(lambda: synth.synthesize(script, VOICE, tmp_path))
    assert voiceover.words and attempts == 2


async def test_sdk_timeout_is_retryable(
    fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    synth = ElevenLabsSynth(KEY, base_url=fake.base_url, timeout=0.3, attempts=1)
    fake.enqueue(hang())
    try:
        with pytest.raises(ProviderError, match="timed out") as caught:
            await synth.synthesize(script, VOICE, tmp_path)
    finally:
        await synth.aclose()
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (malformed(), "not the expected JSON"),
        (bad_schema(), "unreadable alignment|differ in length"),
        (ok(body=[1, 2]), "malformed response"),
        (ok(body={"alignment": None}), "no audio"),
        (ok(body={"audio_base64": "%%%"}), "not base64"),
    ],
)
async def test_unusable_answers_are_not_retried(
    synth: ElevenLabsSynth,
    fake: FakeElevenLabs,
    script: Script,
    tmp_path: Path,
    behaviour: object,
    message: str,
) -> None:
    fake.enqueue(behaviour)  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match=message) as caught:
        await synth.policy.call(lambda: synth.synthesize(script, VOICE, tmp_path))
    assert not caught.value.retryable and len(fake.requests) == 1
    assert not (tmp_path / "voice.wav").exists()


async def test_no_alignment_leaves_timing_to_an_aligner(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, script: Script, tmp_path: Path
) -> None:
    pcm = bytes(2 * SAMPLE_RATE)
    fake.enqueue(ok(body={"audio_base64": base64.b64encode(pcm).decode(), "alignment": None}))
    voiceover = await synth.synthesize(script, VOICE, tmp_path)
    assert voiceover.words == [] and voiceover.duration == 1.0


async def test_empty_narration_is_refused_before_any_request(
    synth: ElevenLabsSynth, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    with pytest.raises(InputError):
        await synth.synthesize(Script(title="t", scenes=[Scene(narration=" ")]), VOICE, tmp_path)
    assert fake.requests == []


async def test_api_key_stays_out_of_errors_and_logs(
    synth: ElevenLabsSynth,
    fake: FakeElevenLabs,
    script: Script,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(status(401), status(500))
    for _ in range(2):
        with pytest.raises(ProviderError) as caught:
            await synth.synthesize(script, VOICE, tmp_path)
        assert KEY not in str(caught.value) and KEY not in str(caught.value.__cause__)
    assert KEY not in caplog.text
