from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.adapters.elevenlabs import ElevenLabsSynth
from pipeline.chain import first_success, policy_of
from pipeline.models import Scene, Script, VoiceChoice, Voiceover, WordTiming
from pipeline.tts_cache import VOICEOVER_JSON, CachedSynth, cache_key
from tests.fakes.elevenlabs import FakeElevenLabs

SCRIPT = Script(
    title="Octopus",
    scenes=[Scene(narration="Octopuses have three hearts."), Scene(narration="And blue blood.")],
)
VOICE = VoiceChoice(language="en")


class CountingSynth:
    """A SpeechSynth that writes a few bytes and counts its calls."""

    name = "counting"

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay

    async def synthesize(self, script: Script, voice: VoiceChoice, out_dir: Path) -> Voiceover:
        self.calls += 1
        await asyncio.sleep(self.delay)
        path = out_dir / "voice.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{script.narration}|{voice.voice}|{self.calls}".encode())
        word = WordTiming(text="Octopuses", start=0.0, end=0.5, scene=0)
        return Voiceover(
            audio_path=path, duration=2.0, words=[word], provider=self.name, sample_rate=24000
        )


@pytest.fixture
async def fake() -> AsyncIterator[FakeElevenLabs]:
    async with FakeElevenLabs() as server:
        yield server


async def test_second_call_is_served_from_the_cache(fake: FakeElevenLabs, tmp_path: Path) -> None:
    inner = ElevenLabsSynth("key", base_url=fake.base_url, timeout=5.0, attempts=1)
    cached = CachedSynth(inner, tmp_path / "cache")
    try:
        first = await cached.synthesize(SCRIPT, VOICE, tmp_path / "job1")
        second = await cached.synthesize(SCRIPT, VOICE, tmp_path / "job2")
    finally:
        await cached.aclose()
    assert len(fake.requests) == 1
    assert second.audio_path == tmp_path / "job2" / "voice.wav"
    assert second.audio_path.read_bytes() == first.audio_path.read_bytes()
    assert second.model_copy(update={"audio_path": first.audio_path}) == first
    assert cached.name == "elevenlabs" and policy_of(cached) is inner.policy


async def test_entry_layout_is_relative(tmp_path: Path) -> None:
    cached = CachedSynth(CountingSynth(), tmp_path / "cache")
    await cached.synthesize(SCRIPT, VOICE, tmp_path / "job")
    entry = tmp_path / "cache" / "tts" / cache_key("counting", VOICE, SCRIPT.narration)
    assert {p.name for p in entry.iterdir()} == {VOICEOVER_JSON, "voice.wav"}
    assert json.loads((entry / VOICEOVER_JSON).read_text())["audio_path"] == "voice.wav"
    # Nothing half-built is left behind.
    assert [p.name for p in (tmp_path / "cache" / "tts").iterdir()] == [entry.name]


@pytest.mark.parametrize(
    ("voice", "narration"),
    [
        (VoiceChoice(language="en", voice="other"), None),
        (VoiceChoice(language="es"), None),
        (VoiceChoice(language="en", rate=200), None),
        (VOICE, "Octopuses have two hearts."),
    ],
)
async def test_any_difference_is_a_miss(
    tmp_path: Path, voice: VoiceChoice, narration: str | None
) -> None:
    inner = CountingSynth()
    cached = CachedSynth(inner, tmp_path / "cache")
    await cached.synthesize(SCRIPT, VOICE, tmp_path / "a")
    script = SCRIPT
    if narration is not None:
        script = SCRIPT.model_copy(update={"scenes": [Scene(narration=narration)]})
    await cached.synthesize(script, voice, tmp_path / "b")
    assert inner.calls == 2


def test_key_depends_on_the_provider() -> None:
    assert cache_key("a", VOICE, "text") != cache_key("b", VOICE, "text")


async def test_broken_entry_is_replaced(tmp_path: Path) -> None:
    inner = CountingSynth()
    cached = CachedSynth(inner, tmp_path / "cache")
    await cached.synthesize(SCRIPT, VOICE, tmp_path / "a")
    entry = tmp_path / "cache" / "tts" / cache_key("counting", VOICE, SCRIPT.narration)
    (entry / VOICEOVER_JSON).write_text("{not json")
    again = await cached.synthesize(SCRIPT, VOICE, tmp_path / "b")
    assert inner.calls == 2 and again.audio_path.is_file()
    third = await cached.synthesize(SCRIPT, VOICE, tmp_path / "c")
    assert inner.calls == 2 and third.audio_path.read_bytes() == again.audio_path.read_bytes()


async def test_missing_audio_is_a_miss(tmp_path: Path) -> None:
    inner = CountingSynth()
    cached = CachedSynth(inner, tmp_path / "cache")
    await cached.synthesize(SCRIPT, VOICE, tmp_path / "a")
    entry = tmp_path / "cache" / "tts" / cache_key("counting", VOICE, SCRIPT.narration)
    (entry / "voice.wav").unlink()
    await cached.synthesize(SCRIPT, VOICE, tmp_path / "b")
    assert inner.calls == 2


async def test_concurrent_jobs_share_one_synthesis(tmp_path: Path) -> None:
    inner = CountingSynth(delay=0.05)
    cached = CachedSynth(inner, tmp_path / "cache")
    results = await asyncio.gather(
        *(cached.synthesize(SCRIPT, VOICE, tmp_path / f"job{i}") for i in range(4))
    )
    assert inner.calls == 1
    assert {r.audio_path.read_bytes() for r in results} == {results[0].audio_path.read_bytes()}


async def test_works_as_a_chain_member_without_a_policy(tmp_path: Path) -> None:
    cached = CachedSynth(CountingSynth(), tmp_path / "cache")
    assert cached.policy is None
    served = await first_success(
        [cached], lambda synth: synth.synthesize(SCRIPT, VOICE, tmp_path / "job"), stage="voice"
    )
    assert (served.provider, served.attempts) == ("counting", 1)


async def test_unwritable_cache_still_returns_the_voice(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    inner = CountingSynth()
    voiceover = await CachedSynth(inner, blocker).synthesize(SCRIPT, VOICE, tmp_path / "job")
    assert voiceover.audio_path.is_file() and inner.calls == 1
