"""Dubbing a delivered reel ("Also in …") through the studio: the real SDK adapters against the
fakes of ElevenLabs (dubbing, forced alignment, TTS) and Groq (translation), real espeak and a
real render. Each test makes a short English reel (three scenes) and dubs it into Spanish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.adapters.elevenlabs_dubbing import ElevenLabsDubber
from pipeline.app import App
from pipeline.delivery import Post
from pipeline.dubbing import DubLanguage, NoTranslator
from pipeline.errors import ProviderError
from pipeline.models import JobState
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.stages.base import read_json
from pipeline.studio import NotOwner, QuotaExceeded, Studio, WrongStep
from pipeline.text import normalise
from tests.fakes.elevenlabs import FakeElevenLabs, status
from tests.fakes.groq import FakeGroq
from tests.fakes.scripts import OCTOPUS

ALICE, BOB = "telegram:1", "telegram:2"
SCENES = 3


@dataclass(slots=True)
class Bench:
    app: App
    studio: Studio
    eleven: FakeElevenLabs
    groq: FakeGroq
    posts: list[Post]

    async def deliver(self, post: Post) -> None:
        self.posts.append(post)

    async def reel(self, owner: str = ALICE) -> str:
        """A delivered English reel of three octopus scenes; its job id."""
        text = "\n\n".join(OCTOPUS["en"][:SCENES])
        started = await self.studio.own_script(owner, text, f"k:{len(self.posts)}", chat_id="1")
        await self.studio.approve(owner, started.job.id)
        await self.studio.render(owner, started.job.id, self.deliver)
        return started.job.id

    async def dub(self, parent: str, owner: str = ALICE, language: str = "es") -> str:
        dub = await self.studio.start_dub(owner, parent, language)
        assert dub.fresh
        await self.studio.produce(dub.job.id, self.deliver)
        return dub.job.id


def _settings(settings: Settings, eleven: FakeElevenLabs | None, groq: FakeGroq) -> Settings:
    updates: dict[str, object] = {
        "groq_api_key": SecretStr("gsk-test"),
        "groq_base_url": groq.base_url,
        "music_enabled": False,
        "sound_effects": False,
        "daily_render_quota": 3,
        "dub_poll_interval": 0.05,
        "dub_timeout": 5.0,
        "provider_retries": 1,
    }
    if eleven is not None:
        updates |= {
            "elevenlabs_api_key": SecretStr("xi-test"),
            "elevenlabs_base_url": eleven.base_url,
        }
    return settings.model_copy(update=updates)


@asynccontextmanager
async def _bench(settings: Settings, *, eleven_labs: bool) -> AsyncIterator[Bench]:
    async with FakeElevenLabs() as eleven, FakeGroq() as groq:
        configured = _settings(settings, eleven if eleven_labs else None, groq)
        app = await App.open(configured, build(configured))
        try:
            yield Bench(app, Studio(app), eleven, groq, [])
        finally:
            await app.close()


@pytest.fixture
async def bench(settings: Settings) -> AsyncIterator[Bench]:
    async with _bench(settings, eleven_labs=True) as made:
        yield made


@pytest.fixture
async def offline(settings: Settings) -> AsyncIterator[Bench]:
    """Groq only: no ElevenLabs, so espeak speaks."""
    async with _bench(settings, eleven_labs=False) as made:
        yield made


def _spoken(work: Path) -> list[str]:
    return [word["text"] for word in read_json(work / "timings.json")]


def _words(script: dict[str, object]) -> list[str]:
    scenes = script["scenes"]
    assert isinstance(scenes, list)
    return [w for scene in scenes for w in scene["narration"].split()]


async def test_a_dub_goes_through_elevenlabs_dubbing_and_forced_alignment(bench: Bench) -> None:
    parent = await bench.reel()
    bench.eleven.dubbing.polls = 2
    dub_id = await bench.dub(parent)

    dub = await bench.studio.job(dub_id)
    assert dub.state == JobState.DELIVERED and dub.language == "es"
    assert dub.script is not None and len(dub.script["scenes"]) == SCENES
    spanish = list(OCTOPUS["es"][:SCENES])
    assert [s["narration"] for s in dub.script["scenes"]] == spanish
    # Create, two polls that say "dubbing", one that says "dubbed", then the download.
    routes = [r.route for r in bench.eleven.requests if r.route.startswith("dub")]
    assert routes == ["dub_create", "dub_status", "dub_status", "dub_status", "dub_audio"]
    created = bench.eleven.of("dub_create")[0]
    assert created.form["source_lang"] == ["en"] and created.form["target_lang"] == ["es"]
    assert created.file is not None and created.file[1][:4] == b"RIFF"  # the parent's narration
    assert bench.eleven.of("dub_audio")[0].path.endswith("/audio/es")
    # The dubbed track is aligned against the translated script, and the karaoke is Spanish.
    aligned = bench.eleven.of("alignment")[-1]
    assert aligned.form["text"] == ["\n\n".join(spanish)]
    work = Path(dub.work_dir)
    assert _spoken(work) == _words(dub.script)
    subs = (work / "subs.ass").read_text(encoding="utf-8")
    assert "corazones" in subs.casefold() or "CORAZONES" in subs
    runs = {r.stage: r for r in await bench.app.runs.for_job(dub_id)}
    assert runs["voice"].provider == "elevenlabs-dubbing" and runs["voice"].outcome == "ok"
    assert runs["images"].provider == "parent" and runs["translate"].provider == "groq"
    # Same pictures, in the same order, as the parent's chosen ones.
    parent_job = await bench.studio.job(parent)
    parent_images = read_json(Path(parent_job.work_dir) / "images.json")
    dub_images = read_json(work / "images.json")
    assert [Path(s[0]["path"]).read_bytes() for s in dub_images] == [
        Path(s[0]["path"]).read_bytes() for s in parent_images
    ]
    # Delivered once, as its own job, linked to the parent.
    assert [p.job.id for p in bench.posts] == [parent, dub_id]
    assert (await bench.studio.dub_of(dub_id)).parent == parent  # type: ignore[union-attr]
    assert await bench.studio.dub_of(parent) is None


async def test_a_failed_dub_falls_back_to_translation_and_tts(bench: Bench) -> None:
    parent = await bench.reel()
    bench.eleven.dubbing.fail = True
    dub_id = await bench.dub(parent)

    dub = await bench.studio.job(dub_id)
    assert dub.state == JobState.DELIVERED
    runs = [(r.stage, r.provider, r.outcome) for r in await bench.app.runs.for_job(dub_id)]
    voice = [run for run in runs if run[0] == "voice"]
    assert voice == [("voice", "elevenlabs-dubbing", "failed"), ("voice", "elevenlabs", "ok")]
    spoken = bench.eleven.of("tts")[-1].json["text"]
    assert spoken == "\n\n".join(OCTOPUS["es"][:SCENES])
    assert _spoken(Path(dub.work_dir)) == _words(dub.script or {})


async def test_a_dub_that_never_finishes_times_out_with_a_clear_message(
    bench: Bench, settings: Settings
) -> None:
    bench.eleven.dubbing.polls = None  # "dubbing" forever
    dubber = ElevenLabsDubber(
        "xi-test", base_url=bench.eleven.base_url, timeout=0.3, poll_interval=0.05
    )
    audio = settings.data_dir / "voice.wav"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(_wav(1.0))
    try:
        with pytest.raises(ProviderError, match=r"did not finish in 0.3 s \(still 'dubbing'\)"):
            await dubber.dub(audio, source="en", target="es", out_dir=audio.parent)
    finally:
        await dubber.aclose()
    assert len(bench.eleven.of("dub_status")) >= 3
    assert bench.eleven.of("dub_audio") == []


async def test_a_dub_timeout_is_recorded_and_the_reel_still_comes(bench: Bench) -> None:
    parent = await bench.reel()
    bench.eleven.dubbing.polls = None
    bench.app.providers.dubbers[0].timeout = 0.3  # type: ignore[attr-defined]
    dub_id = await bench.dub(parent)
    runs = await bench.app.runs.for_job(dub_id)
    failed = next(r for r in runs if r.stage == "voice" and r.outcome == "failed")
    assert failed.error is not None and "did not finish in 0.3 s" in failed.error
    assert (await bench.studio.job(dub_id)).state == JobState.DELIVERED


async def test_a_second_press_returns_the_existing_dub(bench: Bench) -> None:
    parent = await bench.reel()
    first = await bench.studio.start_dub(ALICE, parent, "es")
    again = await bench.studio.start_dub(ALICE, parent, "es")
    assert first.fresh and not again.fresh and again.job.id == first.job.id
    await bench.studio.produce(first.job.id, bench.deliver)
    after = await bench.studio.start_dub(ALICE, parent, "es")
    assert not after.fresh and after.job.state == JobState.DELIVERED
    # One render of the quota for the parent, one for the dub; the presses cost nothing more.
    assert (await bench.studio.limits.render_allowance(ALICE)).used == 2


async def test_dubs_are_for_the_owner_of_a_delivered_reel_in_another_language(
    bench: Bench,
) -> None:
    parent = await bench.reel()
    with pytest.raises(NotOwner):
        await bench.studio.start_dub(BOB, parent, "es")
    with pytest.raises(DubLanguage):
        await bench.studio.start_dub(ALICE, parent, "en")
    with pytest.raises(DubLanguage):
        await bench.studio.start_dub(ALICE, parent, "xx")
    drafted = await bench.studio.own_script(ALICE, "Octopuses have three hearts.", "k:draft")
    with pytest.raises(WrongStep):  # not delivered yet
        await bench.studio.start_dub(ALICE, drafted.job.id, "es")
    assert bench.eleven.of("dub_create") == []


async def test_a_dub_counts_as_a_render(bench: Bench) -> None:
    parent = await bench.reel()
    await bench.studio.start_dub(ALICE, parent, "es")
    await bench.studio.start_dub(ALICE, parent, "de")
    with pytest.raises(QuotaExceeded):
        await bench.studio.start_dub(ALICE, parent, "fr")


async def test_without_elevenlabs_the_translation_is_voiced_by_the_voice_chain(
    offline: Bench,
) -> None:
    bench = offline
    parent = await bench.reel()
    dub_id = await bench.dub(parent, language="de")
    dub = await bench.studio.job(dub_id)
    assert dub.state == JobState.DELIVERED and dub.script is not None
    assert [s["narration"] for s in dub.script["scenes"]] == list(OCTOPUS["de"][:SCENES])
    voice = next(r for r in await bench.app.runs.for_job(dub_id) if r.stage == "voice")
    assert voice.provider == "espeak"
    # Scene durations follow the new voice: the words of the karaoke are the German script's.
    spoken = _spoken(Path(dub.work_dir))
    assert [normalise(w) for w in spoken] == [normalise(w) for w in _words(dub.script)]
    # Translated one scene at a time, plus the title, each within its scene's word budget.
    prompts = [r.json["messages"][1]["content"] for r in bench.groq.of("chat")]
    assert len(prompts) == SCENES + 1
    assert all("into German (de)" in p and "at most" in p for p in prompts)


async def test_a_dub_without_any_llm_fails_clearly_and_gives_the_render_back(
    offline: Bench,
) -> None:
    bench = offline
    parent = await bench.reel()
    bench.app.providers.translators.clear()
    dub = await bench.studio.start_dub(ALICE, parent, "es")
    with pytest.raises(NoTranslator, match="no LLM is configured"):
        await bench.studio.produce(dub.job.id, bench.deliver)
    assert (await bench.studio.job(dub.job.id)).state == JobState.FAILED
    assert (await bench.studio.limits.render_allowance(ALICE)).used == 1


async def test_a_groq_outage_moves_the_dub_to_a_clear_failure(bench: Bench) -> None:
    parent = await bench.reel()
    bench.groq.push("chat", *[status(500)] * 8)
    dub = await bench.studio.start_dub(ALICE, parent, "es")
    with pytest.raises(ProviderError, match="500"):
        await bench.studio.produce(dub.job.id, bench.deliver)
    # The failed dub can be pressed again: it starts over.
    again = await bench.studio.start_dub(ALICE, parent, "es")
    assert again.fresh and again.job.id == dub.job.id


def _wav(seconds: float) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(24000)
        writer.writeframes(b"\x00\x00" * int(24000 * seconds))
    return buffer.getvalue()
