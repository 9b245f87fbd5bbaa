"""ElevenLabs Music and Sound Effects through the real SDK, over HTTP, against the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.adapters.elevenlabs_audio import MUSIC_MODEL, OUTPUT_FORMAT, ElevenLabsSounds
from pipeline.errors import ProviderError
from pipeline.render import probe, resolve_ffmpeg
from tests.fakes.elevenlabs import FakeElevenLabs, hang, malformed, status

KEY = "sk_test_secret_key"


@pytest.fixture
async def fake() -> AsyncIterator[FakeElevenLabs]:
    async with FakeElevenLabs() as server:
        yield server


@pytest.fixture
async def sounds(fake: FakeElevenLabs) -> AsyncIterator[ElevenLabsSounds]:
    adapter = ElevenLabsSounds(KEY, base_url=fake.base_url, timeout=2.0, attempts=2)
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01
    try:
        yield adapter
    finally:
        await adapter.aclose()


async def test_music_is_an_instrumental_as_long_as_asked(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    prompt = sounds.music_prompt("calm", 1)
    path = await sounds.music(prompt, mood="calm", seed=1, seconds=7.25, out=tmp_path / "bed")
    assert path == tmp_path / "bed.mp3"
    info = await probe(path, binary=resolve_ffmpeg())
    assert info.audio_codec == "mp3" and abs(info.duration - 7.25) < 0.1
    (request,) = fake.of("music")
    assert request.path == "/v1/music" and request.query["output_format"] == OUTPUT_FORMAT
    assert request.headers["xi-api-key"] == KEY
    body = request.json
    assert body["prompt"] == prompt and "calm" in prompt
    assert body["music_length_ms"] == 7250 and body["force_instrumental"] is True
    assert body["model_id"] == MUSIC_MODEL and "seed" not in body  # seed and prompt exclude


async def test_music_length_is_kept_within_the_api_limits(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    await sounds.music("soft piano", mood="calm", seed=1, seconds=1.0, out=tmp_path / "a")
    assert fake.of("music")[0].json["music_length_ms"] == 3000


async def test_an_effect_is_generated_from_its_prompt(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    path = await sounds.effect("soft whoosh", seconds=1.0, out=tmp_path / "fx")
    info = await probe(path, binary=resolve_ffmpeg())
    assert info.audio_codec == "mp3" and abs(info.duration - 1.0) < 0.1
    (request,) = fake.of("sfx")
    assert request.path == "/v1/sound-generation"
    assert request.json["text"] == "soft whoosh" and request.json["duration_seconds"] == 1.0


async def test_a_429_is_retried_after_its_retry_after(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    fake.push("music", status(429, retry_after=0.05))
    path, attempts = await sounds.policy.call(
        lambda: sounds.music("soft piano", mood="calm", seed=1, seconds=3.0, out=tmp_path / "m")
    )
    assert attempts == 2 and path.is_file()
    first, second = fake.of("music")
    assert second.at - first.at >= 0.05


@pytest.mark.parametrize(
    ("behaviour", "retryable", "text"),
    [
        (status(429), True, "HTTP 429"),
        (status(500), True, "HTTP 500"),
        (status(401), False, "HTTP 401"),
    ],
)
async def test_failures_are_provider_errors(
    sounds: ElevenLabsSounds,
    fake: FakeElevenLabs,
    tmp_path: Path,
    behaviour: object,
    retryable: bool,
    text: str,
) -> None:
    fake.enqueue(behaviour)  # type: ignore[arg-type]
    with pytest.raises(ProviderError) as failure:
        await sounds.effect("soft whoosh", seconds=1.0, out=tmp_path / "fx")
    assert failure.value.retryable is retryable and text in str(failure.value)
    assert KEY not in str(failure.value)


async def test_a_malformed_body_is_left_to_the_stage_to_refuse(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    # A long 200 body that is not audio is saved; the music stage's ffmpeg run refuses it.
    fake.push("sfx", malformed())
    path = await sounds.effect("soft whoosh", seconds=1.0, out=tmp_path / "fx")
    assert path.read_bytes().startswith(b'{"detail"')


async def test_a_prompt_naming_an_artist_is_refused_for_good(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    with pytest.raises(ProviderError) as failure:
        await sounds.music("hans zimmer style", mood="calm", seed=1, seconds=5, out=tmp_path / "m")
    assert failure.value.status == 400 and not failure.value.retryable
    assert "Terms of Service" in str(failure.value)


async def test_a_hung_request_times_out_under_the_policy(
    sounds: ElevenLabsSounds, fake: FakeElevenLabs, tmp_path: Path
) -> None:
    sounds.policy.timeout = 0.3
    fake.push("music", hang(), hang())
    with pytest.raises(ProviderError) as failure:
        await sounds.policy.call(
            lambda: sounds.music("soft piano", mood="calm", seed=1, seconds=3, out=tmp_path / "m")
        )
    assert failure.value.retryable and failure.value.attempts == 2
    assert not list(tmp_path.iterdir())
