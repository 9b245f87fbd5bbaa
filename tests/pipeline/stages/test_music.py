"""The music stage's sources: the user's track (file or URL through the guarded downloader),
ElevenLabs Music and Sound Effects through the fake (429s and timeouts fall back to the
offline bed), the offline synthesiser, and music turned off."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from pipeline.adapters.elevenlabs_audio import ElevenLabsSounds
from pipeline.adapters.sound_cache import CachedSounds
from pipeline.adapters.synth_audio import SynthSounds
from pipeline.catalog import DEFAULT_STYLE, STYLES
from pipeline.errors import ProviderError
from pipeline.fetch import ImageFetcher
from pipeline.models import Scene, Script, VoiceChoice
from pipeline.render import measure_loudness, resolve_ffmpeg, run_ffmpeg
from pipeline.settings import Settings
from pipeline.stages import music
from pipeline.stages.base import JobContext
from tests.fakes.elevenlabs import FakeElevenLabs, hang, status

SECONDS = 6.0


def script(music_choice: str | None = None) -> Script:
    return Script(
        title="Octopus hearts",
        scenes=[Scene(narration="An octopus has three hearts."), Scene(narration="Blue blood.")],
        music=music_choice,
    )


def context(settings: Settings, tmp_path: Path, chosen: str | None = None) -> JobContext:
    work = tmp_path / "job"
    work.mkdir(parents=True, exist_ok=True)
    return JobContext(
        job_id="job1",
        script=script(chosen),
        work=work,
        voice=VoiceChoice(),
        style=STYLES[DEFAULT_STYLE],
        settings=settings,
    )


async def track(path: Path, seconds: float = 4.0) -> Path:
    await run_ffmpeg(
        ["-f", "lavfi", "-i", f"sine=f=330:r=44100:d={seconds}", "-ac", "2"]
        + ["-c:a", "libmp3lame", "-b:a", "128k", "-y", str(path)],
        binary=resolve_ffmpeg(),
        timeout=30,
        stage="fixture",
    )
    return path


@pytest.fixture
async def fake() -> AsyncIterator[FakeElevenLabs]:
    async with FakeElevenLabs() as server:
        yield server


@pytest.fixture
async def makers(fake: FakeElevenLabs, settings: Settings) -> AsyncIterator[list[music.SoundMaker]]:
    eleven = ElevenLabsSounds("sk_test", base_url=fake.base_url, timeout=2.0, attempts=2)
    eleven.policy.backoff_initial = eleven.policy.backoff_max = 0.01
    chain: list[music.SoundMaker] = [
        CachedSounds(eleven, settings.cache_dir),
        CachedSounds(SynthSounds(), settings.cache_dir),
    ]
    try:
        yield chain
    finally:
        await eleven.aclose()


async def level(path: Path) -> float:
    return (await measure_loudness(path, binary=resolve_ffmpeg(), timeout=30)).integrated


async def at_bed_level(soundtrack: music.Soundtrack) -> None:
    bed = soundtrack.bed
    assert bed.music is not None and bed.music.name == music.MUSIC
    assert abs(await level(bed.music) + bed.music_gain_db - music.BED_LUFS) < 0.5


async def test_elevenlabs_music_and_effects_and_the_cache(
    settings: Settings, tmp_path: Path, fake: FakeElevenLabs, makers: list[music.SoundMaker]
) -> None:
    ctx = context(settings, tmp_path)
    soundtrack = await music.run(ctx, makers, seconds=SECONDS)
    assert (soundtrack.music_provider, soundtrack.effects_provider) == ("elevenlabs", "elevenlabs")
    assert soundtrack.credit is None and soundtrack.music_prompt is not None
    await at_bed_level(soundtrack)
    assert fake.of("music")[0].json["music_length_ms"] == 6000
    assert [r.json["duration_seconds"] for r in fake.of("sfx")] == [1.0, 2.0]
    assert music.load(ctx) == soundtrack
    assert [name for name, _ in music.assets(soundtrack)] == [
        "music.m4a",
        "sfx/sfx-transition.mp3",
        "sfx/sfx-title_hit.mp3",
    ]
    # Another job of the same reel: nothing is generated again.
    other = context(settings, tmp_path / "other")
    await music.run(other, makers, seconds=SECONDS)
    assert len(fake.of("music")) == 1 and len(fake.of("sfx")) == 2


@pytest.mark.parametrize("failure", ["429", "timeout"])
async def test_a_failing_elevenlabs_falls_back_to_the_offline_bed(
    settings: Settings,
    tmp_path: Path,
    fake: FakeElevenLabs,
    makers: list[music.SoundMaker],
    failure: str,
) -> None:
    if failure == "429":
        fake.enqueue(*[status(429, retry_after=0.01)] * 6)
    else:
        makers[0].policy.timeout = 0.3  # type: ignore[attr-defined]
        fake.enqueue(*[hang()] * 6)
    soundtrack = await music.run(context(settings, tmp_path), makers, seconds=SECONDS)
    assert (soundtrack.music_provider, soundtrack.effects_provider) == ("synth", "synth")
    assert len(fake.of("music")) == 2  # both attempts of the policy, then the next maker
    await at_bed_level(soundtrack)


async def test_the_users_own_file_comes_first_and_is_credited(
    settings: Settings, tmp_path: Path, fake: FakeElevenLabs, makers: list[music.SoundMaker]
) -> None:
    own = await track(tmp_path / "My Song.mp3")
    soundtrack = await music.run(context(settings, tmp_path, str(own)), makers, seconds=SECONDS)
    assert soundtrack.music_provider == "user" and soundtrack.credit == "♪ My Song.mp3"
    await at_bed_level(soundtrack)
    assert fake.of("music") == []  # nothing generated


@pytest.fixture
async def track_server(tmp_path: Path) -> AsyncIterator[str]:
    data = (await track(tmp_path / "served.mp3")).read_bytes()

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=data, content_type="audio/mpeg")

    app = web.Application()
    app.router.add_get("/music/track.mp3", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/music/track.mp3"
    finally:
        await runner.cleanup()


async def test_a_music_url_goes_through_the_guarded_downloader(
    settings: Settings, tmp_path: Path, track_server: str, makers: list[music.SoundMaker]
) -> None:
    async with ImageFetcher(cache_dir=tmp_path / "c", allow_hosts=["127.0.0.1"]) as fetcher:

        async def fetch(url: str) -> bytes:
            return await fetcher.download(
                url, kind="audio track", sniff=music.looks_like_audio, max_bytes=10**7
            )

        ctx = context(settings, tmp_path, track_server)
        soundtrack = await music.run(ctx, makers, seconds=SECONDS, fetch_audio=fetch)
    assert soundtrack.music_provider == "user" and soundtrack.credit == "♪ track.mp3"
    await at_bed_level(soundtrack)


async def test_a_private_address_is_refused_and_the_bed_is_generated(
    settings: Settings,
    tmp_path: Path,
    track_server: str,
    fake: FakeElevenLabs,
    makers: list[music.SoundMaker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with ImageFetcher(cache_dir=tmp_path / "c") as fetcher:  # no allow-list
        with pytest.raises(ProviderError, match="not a public address"):
            await fetcher.download(
                track_server, kind="audio track", sniff=music.looks_like_audio, max_bytes=10**7
            )

        async def fetch(url: str) -> bytes:
            return await fetcher.download(
                url, kind="audio track", sniff=music.looks_like_audio, max_bytes=10**7
            )

        ctx = context(settings, tmp_path, track_server)
        with caplog.at_level(logging.WARNING, logger="pipeline.stages.music"):
            soundtrack = await music.run(ctx, makers, seconds=SECONDS, fetch_audio=fetch)
    assert soundtrack.music_provider == "elevenlabs" and soundtrack.credit is None
    assert "not a public address" in caplog.text


async def test_a_download_that_is_not_audio_is_refused(settings: Settings, tmp_path: Path) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>not a song</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/song", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with ImageFetcher(cache_dir=tmp_path / "c", allow_hosts=["127.0.0.1"]) as fetcher:
            with pytest.raises(ProviderError, match="not an audio track"):
                await fetcher.download(
                    f"http://{host}:{port}/song",
                    kind="audio track",
                    sniff=music.looks_like_audio,
                    max_bytes=10**7,
                )
    finally:
        await runner.cleanup()


async def test_offline_the_synthesiser_serves_and_is_deterministic(
    settings: Settings, tmp_path: Path
) -> None:
    makers: list[music.SoundMaker] = [CachedSounds(SynthSounds(), settings.cache_dir)]
    soundtrack = await music.run(context(settings, tmp_path), makers, seconds=SECONDS)
    assert (soundtrack.music_provider, soundtrack.effects_provider) == ("synth", "synth")
    await at_bed_level(soundtrack)
    assert soundtrack.music_prompt == SynthSounds().music_prompt(
        music.mood_of(script()), music.seed_of(script())
    )


async def test_music_off_leaves_the_voice_alone(
    settings: Settings, tmp_path: Path, fake: FakeElevenLabs, makers: list[music.SoundMaker]
) -> None:
    soundtrack = await music.run(context(settings, tmp_path, "off"), makers, seconds=SECONDS)
    assert soundtrack == music.Soundtrack() and music.assets(soundtrack) == []
    assert fake.requests == []


async def test_settings_turn_the_bed_or_the_effects_off(
    settings: Settings, tmp_path: Path, makers: list[music.SoundMaker]
) -> None:
    no_effects = settings.model_copy(update={"sound_effects": False})
    soundtrack = await music.run(context(no_effects, tmp_path), makers, seconds=SECONDS)
    assert soundtrack.bed.music is not None and soundtrack.bed.transition is None
    no_music = settings.model_copy(update={"music_enabled": False})
    soundtrack = await music.run(context(no_music, tmp_path / "b"), makers, seconds=SECONDS)
    assert soundtrack.bed.music is None and soundtrack.bed.transition is not None


def test_a_user_who_turned_music_off_gets_none_unless_the_script_brings_a_track() -> None:
    assert music.with_preference(script(), wants_music=False).music == "off"
    assert music.with_preference(script(), wants_music=True).music is None
    assert music.with_preference(script("/x/a.mp3"), wants_music=False).music == "/x/a.mp3"


def test_mood_follows_the_words_and_credit_the_file_name() -> None:
    grim = Script(title="The war", scenes=[Scene(narration="A disaster, a crisis, many died.")])
    assert music.mood_of(grim) == "serious" and music.mood_of(script()) == "curious"
    assert music.seed_of(script()) == music.seed_of(script()) != music.seed_of(grim)
    assert music.music_credit("https://x.test/a/Song%201.mp3?sig=abc") == "♪ Song%201.mp3"
    assert music.music_credit("/home/u/track.ogg") == "♪ track.ogg"
    assert music.music_credit("off") is None and music.music_credit(None) is None
