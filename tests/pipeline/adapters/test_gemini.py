"""The Gemini adapters through the real google-genai SDK, over HTTP, against tests.fakes.gemini."""

from __future__ import annotations

import json
import logging
import socket
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.genai import errors as genai_errors
from PIL import Image

from pipeline import catalog
from pipeline.adapters.gemini import GeminiImages, GeminiScriptWriter, GeminiSpeech, translate
from pipeline.adapters.gemini._client import GeminiAdapter
from pipeline.chain import first_success
from pipeline.errors import ProviderError
from pipeline.models import Scene, Script, VoiceChoice
from pipeline.ports import ScriptWriter
from pipeline.resilience import Policy
from tests.fakes.gemini import (
    DEFAULT_SOURCES,
    FakeGemini,
    Kind,
    bad_schema,
    draft,
    hang,
    malformed,
    ok,
    status,
)
from tests.fakes.scripts import OCTOPUS

KEY = "AIza-test-key-never-logged"
TOPIC = "why octopuses have three hearts"
REFUSAL = "controlled generation is not supported with google_search tool"
SCRIPT = Script(
    title="Octopus hearts",
    language="en",
    scenes=[
        Scene(narration="The octopus has three hearts.", image_prompt="An octopus on a reef"),
        Scene(narration="Two of them stop when it swims.", image_prompt=""),
    ],
    style_bible="Soft watercolour, teal and amber, morning light.",
)


def quick(timeout: float = 5.0, attempts: int = 3) -> Policy:
    return Policy(
        "gemini", timeout=timeout, attempts=attempts, backoff_initial=0.01, backoff_max=0.02
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    async with FakeGemini() as server:
        yield server


@dataclass
class Case:
    kind: Kind
    adapter: GeminiAdapter
    run: Callable[[], Awaitable[object]]


@pytest.fixture(params=["text", "tts", "image"])
async def case(
    request: pytest.FixtureRequest, fake: FakeGemini, tmp_path: Path
) -> AsyncIterator[Case]:
    kind: Kind = request.param
    url = fake.base_url
    if kind == "text":
        writer = GeminiScriptWriter(KEY, base_url=url, timeout=5, attempts=3)
        case = Case(kind, writer, lambda: writer.write(TOPIC, language="en", seconds=30))
    elif kind == "tts":
        speech = GeminiSpeech(KEY, base_url=url, timeout=5, attempts=3)
        case = Case(kind, speech, lambda: speech.synthesize(SCRIPT, VoiceChoice(), tmp_path))
    else:
        images = GeminiImages(KEY, base_url=url, timeout=5, attempts=3)
        case = Case(kind, images, lambda: images.candidates(SCRIPT, 0, 1, tmp_path))
    case.adapter.policy = quick()
    try:
        yield case
    finally:
        await case.adapter.aclose()


@pytest.fixture
async def writer(fake: FakeGemini) -> AsyncIterator[GeminiScriptWriter]:
    adapter = GeminiScriptWriter(KEY, base_url=fake.base_url, timeout=5, attempts=3)
    adapter.policy = quick()
    try:
        yield adapter
    finally:
        await adapter.aclose()


# --- behaviour shared by the three adapters ---------------------------------------------------


async def test_success_through_the_sdk(case: Case, fake: FakeGemini) -> None:
    value, attempts = await case.adapter.policy.call(case.run)
    assert value and attempts == 1
    (sent,) = fake.requests
    assert sent.kind == case.kind
    assert sent.path == f"/v1/models/{sent.model}:generateContent"


async def test_429_waits_for_retry_after(case: Case, fake: FakeGemini) -> None:
    fake.push(case.kind, status(429, retry_after=1))
    began = time.perf_counter()
    _, attempts = await case.adapter.policy.call(case.run)
    assert attempts == 2
    assert 0.9 <= time.perf_counter() - began < 2.5
    assert len(fake.of(case.kind)) == 2  # the SDK itself made no retry


async def test_5xx_is_retried_then_gives_up_retryable(case: Case, fake: FakeGemini) -> None:
    fake.push(case.kind, *[status(500)] * 3)
    with pytest.raises(ProviderError) as caught:
        await case.adapter.policy.call(case.run)
    assert caught.value.retryable and caught.value.status == 500
    assert caught.value.attempts == 3 and len(fake.of(case.kind)) == 3


async def test_no_answer_times_out_and_is_retried(case: Case, fake: FakeGemini) -> None:
    case.adapter.policy = quick(timeout=0.3, attempts=2)
    fake.push(case.kind, hang(), hang())
    began = time.perf_counter()
    with pytest.raises(ProviderError) as caught:
        await case.adapter.policy.call(case.run)
    assert caught.value.retryable and caught.value.attempts == 2
    assert time.perf_counter() - began < 1.5


async def test_malformed_body_is_not_retried(case: Case, fake: FakeGemini) -> None:
    fake.push(case.kind, malformed())
    with pytest.raises(ProviderError) as caught:
        await case.adapter.policy.call(case.run)
    assert not caught.value.retryable and caught.value.attempts == 1
    assert "malformed" in str(caught.value)


async def test_answer_breaking_the_schema_is_not_retried(case: Case, fake: FakeGemini) -> None:
    fake.push(case.kind, bad_schema(), bad_schema())
    with pytest.raises(ProviderError) as caught:
        await case.adapter.policy.call(case.run)
    assert not caught.value.retryable and caught.value.attempts == 1
    # The script writer asks once for a repair; audio and images have nothing to repair.
    assert len(fake.of(case.kind)) == (2 if case.kind == "text" else 1)


async def test_other_4xx_is_final_and_the_key_stays_secret(
    case: Case, fake: FakeGemini, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.push(case.kind, status(403, message="API key not valid. Please pass a valid API key."))
    with pytest.raises(ProviderError) as caught:
        await case.adapter.policy.call(case.run)
    assert not caught.value.retryable and caught.value.status == 403
    assert len(fake.requests) == 1
    assert KEY not in caplog.text and KEY not in str(caught.value) and KEY not in repr(case.adapter)


# --- the script writer ------------------------------------------------------------------------


async def test_grounded_draft_in_one_call(writer: GeminiScriptWriter, fake: FakeGemini) -> None:
    script = await writer.write(TOPIC, language="ru", seconds=30)
    assert script.language == "ru" and script.grounded and len(script.scenes) == 8
    assert script.sources == list(dict.fromkeys(DEFAULT_SOURCES))  # deduplicated, in order
    (sent,) = fake.requests
    assert sent.grounded and sent.wants_json
    assert sent.body["generationConfig"]["responseSchema"]["title"] == "ScriptDraft"
    assert TOPIC in sent.prompt and "(ru)" in sent.prompt


@pytest.mark.parametrize("language", catalog.LANGUAGES)
async def test_drafts_in_every_narration_language(
    writer: GeminiScriptWriter, fake: FakeGemini, language: str
) -> None:
    script = await writer.write(TOPIC, language=language, seconds=20)
    assert script.language == language
    assert [s.narration for s in script.scenes] == list(OCTOPUS[language])
    assert len(fake.of("text")) == 1  # accepted as it came, no repair asked for


async def test_no_grounding_metadata_means_not_grounded(
    writer: GeminiScriptWriter, fake: FakeGemini
) -> None:
    fake.push("text", ok(sources=[]))
    script = await writer.write(TOPIC, language="en", seconds=30)
    assert script.sources == [] and not script.grounded


async def test_bad_schema_is_repaired_once(writer: GeminiScriptWriter, fake: FakeGemini) -> None:
    fake.push("text", bad_schema())
    script = await writer.write(TOPIC, language="en", seconds=30)
    assert script.scenes
    first, repair = fake.of("text")
    assert repair.prompt.startswith(first.prompt)
    assert "could not be used" in repair.prompt and "scenes" in repair.prompt


async def test_text_that_is_not_json_is_repaired(
    writer: GeminiScriptWriter, fake: FakeGemini
) -> None:
    fake.push("text", ok(text='Here is your script: {"title": '))
    await writer.write(TOPIC, language="en", seconds=30)
    assert "not valid JSON" in fake.of("text")[1].prompt


async def test_wrong_language_is_rejected(writer: GeminiScriptWriter, fake: FakeGemini) -> None:
    russian = json.dumps(draft(TOPIC, language="ru", seconds=30), ensure_ascii=False)
    fake.push("text", ok(text=russian), ok(text=russian))
    with pytest.raises(ProviderError) as caught:
        await writer.write(TOPIC, language="en", seconds=30)
    assert not caught.value.retryable and "is in ru, not en" in str(caught.value)
    assert "is in ru, not en" in fake.of("text")[1].prompt


async def test_two_call_fallback_when_schema_and_search_clash(fake: FakeGemini) -> None:
    writer = GeminiScriptWriter(
        KEY, base_url=fake.base_url, timeout=5, attempts=3, model="gemini-2.5-flash"
    )
    try:
        fake.push("text", status(400, message=REFUSAL))
        script = await writer.write(TOPIC, language="es", seconds=30)
        refused, notes, schema = fake.of("text")
        assert refused.grounded and refused.wants_json
        assert notes.grounded and not notes.wants_json
        assert not schema.grounded and schema.wants_json and "Fact 1" in schema.prompt
        assert script.grounded and script.language == "es"
        assert script.sources == list(dict.fromkeys(DEFAULT_SOURCES))
        # Remembered for the model: the next draft goes straight to two calls.
        await writer.write(TOPIC, language="es", seconds=30)
        assert len(fake.of("text")) == 5
    finally:
        await writer.aclose()


async def test_a_failing_writer_hands_over_to_the_next(
    writer: GeminiScriptWriter, fake: FakeGemini
) -> None:
    class Stub:
        name = "stub"

        async def write(self, topic: str, *, language: str, seconds: int) -> Script:
            return SCRIPT

    fake.push("text", *[status(503)] * 3)
    writers: list[ScriptWriter] = [writer, Stub()]
    served = await first_success(
        writers, lambda w: w.write(TOPIC, language="en", seconds=30), stage="script"
    )
    assert served.provider == "stub" and served.attempts == 4


# --- speech -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [24_000, 16_000])
async def test_speech_reads_the_rate_from_the_mime_type(
    fake: FakeGemini, tmp_path: Path, rate: int
) -> None:
    speech = GeminiSpeech(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    try:
        fake.push("tts", ok(rate=rate))
        voiceover = await speech.synthesize(SCRIPT, VoiceChoice(voice="Puck"), tmp_path)
    finally:
        await speech.aclose()
    (sent,) = fake.requests
    assert sent.prompt == "\n\n".join(scene.narration for scene in SCRIPT.scenes)
    assert "Puck" in json.dumps(sent.body["generationConfig"]["speechConfig"])
    expected = len(sent.prompt.split()) / 2.5
    assert voiceover.sample_rate == rate and voiceover.duration == pytest.approx(expected, abs=1e-3)
    assert voiceover.words == [] and voiceover.provider == "gemini"
    assert voiceover.audio_path == tmp_path / "voice.wav"
    with wave.open(str(voiceover.audio_path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, rate)
        assert wav.getnframes() == round(expected * rate)


async def test_speech_ignores_a_voice_gemini_does_not_have(
    fake: FakeGemini, tmp_path: Path
) -> None:
    speech = GeminiSpeech(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    try:
        await speech.synthesize(SCRIPT, VoiceChoice(voice="en-us"), tmp_path)
    finally:
        await speech.aclose()
    assert "Kore" in json.dumps(fake.requests[0].body["generationConfig"]["speechConfig"])


# --- images -----------------------------------------------------------------------------------


async def test_images_share_the_style_bible(fake: FakeGemini, tmp_path: Path) -> None:
    images = GeminiImages(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    try:
        found = await images.candidates(SCRIPT, 1, 3, tmp_path)
    finally:
        await images.aclose()
    assert [c.path for c in found] == [tmp_path / "gemini" / f"1-{n}.jpg" for n in range(3)]
    assert all(c.provider == "gemini" and c.scene == 1 for c in found)
    with Image.open(found[0].path) as picture:
        assert picture.format == "JPEG" and picture.size == (72, 128)
    for sent in fake.requests:
        config = sent.body["generationConfig"]
        assert config["responseModalities"] == ["IMAGE"]
        assert config["imageConfig"] == {"aspectRatio": "9:16"}
        # Scene 1 has no image prompt: its narration stands in.
        assert SCRIPT.scenes[1].narration in sent.prompt and SCRIPT.style_bible in sent.prompt


async def test_images_keep_the_candidates_that_worked(fake: FakeGemini, tmp_path: Path) -> None:
    images = GeminiImages(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    try:
        fake.push("image", status(500))
        found = await images.candidates(SCRIPT, 0, 3, tmp_path)
    finally:
        await images.aclose()
    assert len(found) == 2


# --- plumbing ---------------------------------------------------------------------------------


def test_retry_info_without_a_header() -> None:
    body = {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "quota",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}
            ],
        }
    }
    error = translate(genai_errors.ClientError(429, body, None))
    assert error.retryable and error.retry_after == 2.5 and error.status == 429


async def test_adapters_share_one_client_until_the_last_closes(
    fake: FakeGemini, tmp_path: Path
) -> None:
    writer = GeminiScriptWriter(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    images = GeminiImages(KEY, base_url=fake.base_url, timeout=5, attempts=1)
    try:
        await writer.write(TOPIC, language="en", seconds=30)
        assert writer._shared is images._shared
        await writer.aclose()
        assert await images.candidates(SCRIPT, 0, 1, tmp_path)
    finally:
        await writer.aclose()  # closing twice is harmless
        await images.aclose()


async def test_a_refused_connection_fails_fast_and_retryable(tmp_path: Path) -> None:
    # Left alone, the SDK retries aiohttp connection errors once after sleeping 1-10 s.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    images = GeminiImages(KEY, base_url=f"http://127.0.0.1:{port}", timeout=5, attempts=1)
    began = time.perf_counter()
    try:
        with pytest.raises(ProviderError) as caught:
            await images.candidates(SCRIPT, 0, 1, tmp_path)
    finally:
        await images.aclose()
    assert caught.value.retryable and time.perf_counter() - began < 0.9


async def test_the_sdk_timeout_is_a_retryable_failure_too(fake: FakeGemini, tmp_path: Path) -> None:
    # Called without the policy (or with a longer one), the client's own timeout still ends it.
    speech = GeminiSpeech(KEY, base_url=fake.base_url, timeout=0.3, attempts=1)
    fake.push("tts", hang())
    try:
        with pytest.raises(ProviderError) as caught:
            await speech.synthesize(SCRIPT, VoiceChoice(), tmp_path)
    finally:
        await speech.aclose()
    assert caught.value.retryable and "timed out" in str(caught.value)
