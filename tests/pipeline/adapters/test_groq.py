"""The Groq adapters through the real SDK, over HTTP, against tests.fakes.groq."""

from __future__ import annotations

import json
import logging
import socket
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline import catalog, scriptwriting
from pipeline.adapters.groq import GroqScriptWriter, GroqWhisperAligner
from pipeline.errors import ProviderError
from pipeline.models import Scene, Script
from pipeline.resilience import retry_after_seconds
from pipeline.text import script_words
from tests.fakes.groq import FakeGroq, bad_schema, hang, malformed, ok, sample_draft, status
from tests.fakes.scripts import OCTOPUS

KEY = "gsk_test_secret_key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGroq]:
    async with FakeGroq() as server:
        yield server


def fast(adapter: GroqScriptWriter | GroqWhisperAligner) -> None:
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01


@pytest.fixture
async def writer(fake: FakeGroq) -> AsyncIterator[GroqScriptWriter]:
    adapter = GroqScriptWriter(KEY, base_url=fake.base_url, timeout=5.0, attempts=3)
    fast(adapter)
    try:
        yield adapter
    finally:
        await adapter.aclose()


@pytest.fixture
async def aligner(fake: FakeGroq) -> AsyncIterator[GroqWhisperAligner]:
    adapter = GroqWhisperAligner(KEY, base_url=fake.base_url, timeout=5.0, attempts=3)
    fast(adapter)
    try:
        yield adapter
    finally:
        await adapter.aclose()


def user_prompt(fake: FakeGroq, index: int) -> str:
    return str(fake.requests[index].json["messages"][1]["content"])


# --- script writer


async def test_writes_a_validated_script(writer: GroqScriptWriter, fake: FakeGroq) -> None:
    script = await writer.write("octopus hearts", language="en", seconds=30)
    assert script.title and len(script.scenes) == 6
    assert (script.language, script.grounded, script.sources) == ("en", False, [])
    assert script.hashtags == ["#octopus", "#ocean", "#facts"]
    [request] = fake.requests
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.json["model"] == catalog.GROQ_CHAT_MODEL
    assert request.json["response_format"] == {"type": "json_object"}
    system, user = request.json["messages"]
    assert system["role"] == "system" and '"style_bible"' in system["content"]
    assert user["content"] == scriptwriting.prompt("octopus hearts", language="en", seconds=30)


@pytest.mark.parametrize("language", catalog.LANGUAGES)
async def test_writes_in_the_requested_language(writer: GroqScriptWriter, language: str) -> None:
    # The fake answers in real sentences of the language asked; the draft passes the language
    # check (which took German, French and Portuguese for Spanish before py3langid).
    script = await writer.write("octopus hearts", language=language, seconds=30)
    assert script.language == language
    assert [s.narration for s in script.scenes] == list(OCTOPUS[language])


async def test_429_is_retried_after_retry_after(writer: GroqScriptWriter, fake: FakeGroq) -> None:
    fake.enqueue(status(429, retry_after=1))
    began = time.perf_counter()
    script, attempts = await writer.policy.call(
        lambda: writer.write("octopus", language="en", seconds=30)
    )
    elapsed = time.perf_counter() - began
    assert script.scenes and attempts == 2 and len(fake.requests) == 2
    assert 0.95 <= elapsed < 2.5
    assert fake.requests[1].at - fake.requests[0].at >= 0.95


async def test_5xx_is_retried_then_fails_retryable(
    writer: GroqScriptWriter, fake: FakeGroq
) -> None:
    fake.enqueue(status(500), status(503), status(502))
    with pytest.raises(ProviderError) as caught:
        await writer.policy.call(lambda: writer.write("octopus", language="en", seconds=30))
    assert caught.value.retryable and caught.value.status == 502
    assert caught.value.attempts == 3 and len(fake.requests) == 3


async def test_client_errors_are_not_retried(writer: GroqScriptWriter, fake: FakeGroq) -> None:
    fake.enqueue(status(401))
    with pytest.raises(ProviderError) as caught:
        await writer.policy.call(lambda: writer.write("octopus", language="en", seconds=30))
    assert not caught.value.retryable and caught.value.status == 401
    assert caught.value.attempts == 1 and len(fake.requests) == 1


async def test_hang_times_out_and_the_retry_succeeds(
    writer: GroqScriptWriter, fake: FakeGroq
) -> None:
    writer.policy.timeout = 0.3
    fake.enqueue(hang())
    script, attempts = await writer.policy.call(
        lambda: writer.write("octopus", language="en", seconds=30)
    )
    assert script.scenes and attempts == 2


async def test_sdk_timeout_is_retryable(fake: FakeGroq) -> None:
    writer = GroqScriptWriter(KEY, base_url=fake.base_url, timeout=0.3, attempts=1)
    fake.enqueue(hang())
    try:
        with pytest.raises(ProviderError, match="timed out") as caught:
            await writer.write("octopus", language="en", seconds=30)
    finally:
        await writer.aclose()
    assert caught.value.retryable


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    writer = GroqScriptWriter(KEY, base_url=f"http://127.0.0.1:{port}", timeout=2.0, attempts=1)
    try:
        with pytest.raises(ProviderError, match="connection failed") as caught:
            await writer.write("octopus", language="en", seconds=30)
    finally:
        await writer.aclose()
    assert caught.value.retryable


async def test_broken_json_is_repaired_once(writer: GroqScriptWriter, fake: FakeGroq) -> None:
    fake.enqueue(malformed())
    script = await writer.write("octopus", language="en", seconds=30)
    assert script.scenes and len(fake.requests) == 2
    assert "could not be used: the answer was not valid JSON" in user_prompt(fake, 1)


async def test_broken_json_twice_fails_unretryable(
    writer: GroqScriptWriter, fake: FakeGroq
) -> None:
    fake.enqueue(malformed(), ok(content="Sure! Here is your script: {"))
    with pytest.raises(ProviderError, match="after one repair") as caught:
        await writer.policy.call(lambda: writer.write("octopus", language="en", seconds=30))
    assert not caught.value.retryable and caught.value.attempts == 1
    assert len(fake.requests) == 2


async def test_schema_breaking_answer_gets_one_repair_then_fails(
    writer: GroqScriptWriter, fake: FakeGroq
) -> None:
    fake.enqueue(bad_schema(), bad_schema())
    with pytest.raises(ProviderError, match="scenes") as caught:
        await writer.policy.call(lambda: writer.write("octopus", language="en", seconds=30))
    assert not caught.value.retryable and len(fake.requests) == 2
    assert "scenes: Input should be a valid array" in user_prompt(fake, 1)


async def test_wrong_language_is_repaired(writer: GroqScriptWriter, fake: FakeGroq) -> None:
    fake.enqueue(ok(content=json.dumps(sample_draft("en"))))
    script = await writer.write("осьминоги", language="ru", seconds=30)
    assert script.language == "ru" and len(fake.requests) == 2
    assert "the draft is in en, not ru" in user_prompt(fake, 1)


async def test_a_body_that_is_not_json_is_not_repaired(
    writer: GroqScriptWriter, fake: FakeGroq
) -> None:
    fake.enqueue(ok(body="<html>gateway</html>"))
    with pytest.raises(ProviderError, match="malformed response") as caught:
        await writer.write("octopus", language="en", seconds=30)
    assert not caught.value.retryable and len(fake.requests) == 1


async def test_api_key_stays_out_of_errors_and_logs(
    writer: GroqScriptWriter, fake: FakeGroq, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.enqueue(status(401), status(500))
    for _ in range(2):
        with pytest.raises(ProviderError) as caught:
            await writer.write("octopus", language="en", seconds=30)
        assert KEY not in str(caught.value) and KEY not in repr(caught.value.__cause__)
    assert KEY not in caplog.text


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


# --- whisper aligner


def write_wav(path: Path, seconds: float, rate: int = 16_000) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(bytes(2 * round(seconds * rate)))
    return path


@pytest.fixture
def script() -> Script:
    return Script(
        title="Octopus",
        scenes=[
            Scene(narration="Octopuses have three hearts and blue blood."),
            Scene(narration="Two hearts pump blood to the gills, one to the body."),
            Scene(narration="That one stops when they swim, so they would rather crawl."),
        ],
    )


async def test_aligns_heard_words_to_the_script(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    fake.expected_text = script.narration
    audio = write_wav(tmp_path / "voice.wav", 8.0)
    timings = await aligner.align(audio, script, "en")
    assert [t.text for t in timings] == [w.text for w in script_words(script)]
    assert timings[0].start >= 0.0 and timings[-1].end <= 8.0
    assert all(b.start >= a.end for a, b in zip(timings, timings[1:], strict=False))
    [request] = fake.requests
    assert request.file is not None and request.file[0] == "voice.wav"
    assert request.file[1] == audio.read_bytes()
    assert request.form == {
        "model": [catalog.GROQ_WHISPER_MODEL],
        "language": ["en"],
        "response_format": ["verbose_json"],
        "timestamp_granularities[]": ["word", "segment"],
    }


async def test_misheard_words_still_give_one_timing_per_script_word(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    audio = write_wav(tmp_path / "voice.wav", 8.0)
    fake.expected_text = script.narration
    exact = await aligner.align(audio, script, "en")
    fake.mishear = True
    misheard = await aligner.align(audio, script, "en")
    assert [t.text for t in misheard] == [t.text for t in exact]
    assert all(b.start >= a.end for a, b in zip(misheard, misheard[1:], strict=False))
    # Merges, splits and drops move times a little, never far.
    assert max(abs(a.start - b.start) for a, b in zip(exact, misheard, strict=True)) < 0.5


async def test_aligner_429_then_success(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    fake.enqueue(status(429, retry_after=1))
    audio = write_wav(tmp_path / "voice.wav", 5.0)
    began = time.perf_counter()
    timings, attempts = await aligner.policy.call(lambda: aligner.align(audio, script, "en"))
    assert len(timings) == len(script_words(script)) and attempts == 2
    assert 0.95 <= time.perf_counter() - began < 2.5


async def test_aligner_5xx_retried_then_retryable_failure(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    fake.enqueue(status(500), status(500), status(500))
    audio = write_wav(tmp_path / "voice.wav", 5.0)
    with pytest.raises(ProviderError) as caught:
        await aligner.policy.call(lambda: aligner.align(audio, script, "en"))
    assert caught.value.retryable and caught.value.attempts == 3 and len(fake.requests) == 3


async def test_aligner_hang_times_out(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    aligner.policy.timeout, aligner.policy.attempts = 0.3, 2
    fake.enqueue(hang(), hang())
    audio = write_wav(tmp_path / "voice.wav", 5.0)
    with pytest.raises(ProviderError, match="no answer in 0.3 s") as caught:
        await aligner.policy.call(lambda: aligner.align(audio, script, "en"))
    assert caught.value.retryable and caught.value.attempts == 2


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [(malformed(), "malformed response"), (bad_schema(), "no word timestamps")],
)
async def test_aligner_unusable_answers_are_not_retried(
    aligner: GroqWhisperAligner,
    fake: FakeGroq,
    script: Script,
    tmp_path: Path,
    behaviour: object,
    message: str,
) -> None:
    fake.enqueue(behaviour)  # type: ignore[arg-type]
    audio = write_wav(tmp_path / "voice.wav", 5.0)
    with pytest.raises(ProviderError, match=message) as caught:
        await aligner.policy.call(lambda: aligner.align(audio, script, "en"))
    assert not caught.value.retryable and len(fake.requests) == 1


async def test_aligner_rejected_audio_is_not_retried(
    aligner: GroqWhisperAligner, fake: FakeGroq, script: Script, tmp_path: Path
) -> None:
    audio = tmp_path / "voice.wav"
    audio.write_bytes(b"not audio")
    with pytest.raises(ProviderError, match="HTTP 400: could not process file") as caught:
        await aligner.policy.call(lambda: aligner.align(audio, script, "en"))
    assert not caught.value.retryable and caught.value.status == 400
