"""Music stage: the bed under the narration and the effect sounds, ready for the render.

Sources of the music, in order:

1. none, when the script says ``> music: off`` (the studio sets that for a user who turned
   music off) or the deployment has ``MUSIC_ENABLED=false``;
2. the user's own track: a file (a script's ``> music: path``, or an audio file the studio
   received in chat) or an http(s) URL, fetched by the guarded downloader. A track that
   cannot be had is logged and the next source serves, as with the user's own pictures;
3. the sound makers in ``MUSIC_CHAIN`` order: ElevenLabs Music (when its key is set), then
   the offline synthesiser, which never fails. Both are cached by (provider, prompt, length).

Effects (unless ``SOUND_EFFECTS=false`` or the music is off): a transition sound for the cuts
and a soft hit under the title, from the same makers, cached the same way.

Every sound is measured here (one ffmpeg run each), so the render only applies gains: the
music is transcoded to ``music.m4a`` (the asset that is uploaded) in the same run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import shutil
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Protocol

from ..chain import first_success
from ..concurrency import both
from ..errors import InputError, ProviderError, ReelError
from ..files import atomic_write
from ..models import AudioBed, Script, Soundtrack
from ..render import resolve_ffmpeg
from ..render.audio import parse_summary, summary_of
from ..render.ffmpeg import capture_ffmpeg, file_url, raise_for_run
from .base import JobContext, read_json, write_json

logger = logging.getLogger(__name__)

MUSIC_JSON = "music.json"
MUSIC = "music.m4a"
OFF = "off"
# Levels in the mix, before ducking: the bed 12 LU under the voice's -14 LUFS, heard in the
# pauses and below EBU R128's relative gate (see pipeline.render.mix); the effects around it,
# short enough not to tire.
BED_LUFS = -26.0
TRANSITION_LUFS = -26.0
TITLE_HIT_LUFS = -24.0
TRANSITION = ("soft airy whoosh transition, short and clean", 1.0)
TITLE_HIT = ("soft deep cinematic hit, gentle low boom", 2.0)
# A track this quiet is silence: no gain can make a bed of it.
_SILENT_LUFS = -60.0
_MAX_GAIN_DB = 30.0
_MUSIC_BITRATE = "96k"
_PROCESS_TIMEOUT = 300.0

AudioFetch = Callable[[str], Awaitable[bytes]]  # the guarded download of an http(s) URL


class SoundMaker(Protocol):
    name: str

    def music_prompt(self, mood: str, seed: int) -> str: ...

    async def music(
        self, prompt: str, *, mood: str, seed: int, seconds: float, out: Path
    ) -> Path: ...

    async def effect(self, prompt: str, *, seconds: float, out: Path) -> Path: ...


_MOOD_WORDS = {
    "serious": "war wars battle death died dead disaster crisis crime murder killed attack danger "
    "dangerous tragedy victims disease pandemic collapse extinction threat",
    "calm": "calm sleep relax quiet gentle peaceful meditation garden forest ocean sea rain "
    "snow slow",
    "uplifting": "record win won victory success celebrate first invented breakthrough hope "
    "best amazing incredible fastest biggest",
}
_WORD = re.compile(r"[a-z]+")


def mood_of(script: Script) -> str:
    """The music's mood from the script's words: the mood with most hits, else curious."""
    words = _WORD.findall(f"{script.title} {script.narration}".lower())
    scores = {mood: sum(w in vocab.split() for w in words) for mood, vocab in _MOOD_WORDS.items()}
    best = max(scores, key=lambda mood: scores[mood])
    return best if scores[best] >= 2 else "curious"


def seed_of(script: Script) -> int:
    """Deterministic per reel: the same script always gets the same offline bed."""
    digest = hashlib.sha256(f"{script.title}\n{script.narration}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def is_url(choice: str) -> bool:
    return choice.lower().startswith(("http://", "https://"))


def looks_like_audio(head: bytes) -> bool:
    """A first look at a download's leading bytes: MP3 (ID3 or a frame sync), WAV, Ogg,
    FLAC or ISO media (M4A/AAC in MP4). ffmpeg has the final say."""
    return (
        head.startswith((b"ID3", b"OggS", b"fLaC"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
        or head[4:8] == b"ftyp"
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)  # MPEG/ADTS sync
    )


def music_credit(choice: str | None) -> str | None:
    """The caption's credit for the user's own track: its file name; None for generated
    music or none."""
    if not choice or choice == OFF:
        return None
    name = choice.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0] if is_url(choice) else None
    name = name or Path(choice).name
    return f"♪ {name}" if name else None


def with_preference(script: Script, wants_music: bool) -> Script:
    """The script as a user's music setting leaves it: a user who turned music off gets
    none, unless this script brings its own track (which they chose for this reel)."""
    if wants_music or script.music is not None:
        return script
    return script.model_copy(update={"music": OFF})


def load(ctx: JobContext) -> Soundtrack | None:
    path = ctx.path(MUSIC_JSON)
    if not path.is_file():
        return None
    soundtrack = Soundtrack.model_validate(read_json(path))
    bed = soundtrack.bed
    for part in (bed.music, bed.transition, bed.title_hit):
        if part is not None and not part.is_file():
            return None
    return soundtrack


SFX_FOLDER = "sfx/"


def assets(soundtrack: Soundtrack | None) -> list[tuple[str, Path]]:
    """(name under the job's prefix, file) of the stage's files that go to the blob store
    with the job's other assets: ``music.m4a`` and the effects under ``sfx/``."""
    if soundtrack is None:
        return []
    bed = soundtrack.bed
    found: list[tuple[str, Path]] = []
    if bed.music is not None:
        found.append((MUSIC, bed.music))
    for effect in (bed.transition, bed.title_hit):
        if effect is not None:
            found.append((f"{SFX_FOLDER}{effect.name}", effect))
    return found


async def run(
    ctx: JobContext,
    makers: Sequence[SoundMaker],
    *,
    seconds: float,
    fetch_audio: AudioFetch | None = None,
) -> Soundtrack:
    """The job's soundtrack for a reel of ``seconds``, written to ``music.json``."""
    await ctx.report("music", 0.0)
    binary = resolve_ffmpeg(ctx.settings.ffmpeg_binary)
    choice = ctx.script.music
    soundtrack = Soundtrack()
    if choice != OFF:
        # Music is decoration: no failure here may cost the reel, which then has less of it.
        # The bed and the effects are asked for side by side: each is a remote call of
        # seconds, and the render waits for all of them.
        async def bed() -> Soundtrack:
            try:
                return await _music(ctx, makers, choice, seconds, fetch_audio, binary)
            except ProviderError as exc:
                logger.warning("job %s: no music: %s", ctx.job_id, exc)
                return Soundtrack()

        async def effects() -> tuple[dict[str, object], str] | None:
            if not (ctx.settings.sound_effects and makers):
                return None
            try:
                return await _effects(ctx, makers, binary)
            except ProviderError as exc:
                logger.warning("job %s: no sound effects: %s", ctx.job_id, exc)
                return None

        soundtrack, made = await both(bed(), effects())
        if made is not None:
            update, provider = made
            soundtrack.bed = soundtrack.bed.model_copy(update=update)
            soundtrack.effects_provider = provider
    write_json(ctx.path(MUSIC_JSON), soundtrack.model_dump(mode="json"))
    await ctx.report("music", 1.0)
    return soundtrack


async def _music(
    ctx: JobContext,
    makers: Sequence[SoundMaker],
    choice: str | None,
    seconds: float,
    fetch_audio: AudioFetch | None,
    binary: str,
) -> Soundtrack:
    if not ctx.settings.music_enabled:
        return Soundtrack()
    if choice:
        try:
            source = await _user_track(ctx, choice, fetch_audio)
            gain = await _prepare_music(source, ctx.path(MUSIC), seconds, binary)
        except ReelError as exc:
            logger.warning("job %s: the user's music cannot be used: %s", ctx.job_id, exc)
        else:
            bed = AudioBed(music=ctx.path(MUSIC), music_gain_db=gain)
            return Soundtrack(bed=bed, music_provider="user", credit=music_credit(choice))
    if not makers:
        return Soundtrack()
    mood, seed = mood_of(ctx.script), seed_of(ctx.script)

    async def compose(maker: SoundMaker) -> tuple[float, str]:
        prompt = maker.music_prompt(mood, seed)
        made = await maker.music(
            prompt, mood=mood, seed=seed, seconds=seconds, out=ctx.path("music-source")
        )
        try:
            # Inside the provider's turn: an answer ffmpeg cannot read hands over to the next.
            return await _prepare_music(made, ctx.path(MUSIC), seconds, binary), prompt
        finally:
            made.unlink(missing_ok=True)

    served = await first_success(makers, compose, stage="music")
    gain, prompt = served.value
    bed = AudioBed(music=ctx.path(MUSIC), music_gain_db=gain)
    logger.info("job %s: %s music (%s), %+.1f dB", ctx.job_id, served.provider, mood, gain)
    return Soundtrack(bed=bed, music_provider=served.provider, music_prompt=prompt)


async def _user_track(ctx: JobContext, choice: str, fetch_audio: AudioFetch | None) -> Path:
    if is_url(choice):
        if fetch_audio is None:
            raise ProviderError("no downloader is configured", provider="fetch")
        data = await fetch_audio(choice)
        target = ctx.path("music-user")
        await asyncio.to_thread(atomic_write, target, data)
        return target
    source = Path(choice)
    if not source.is_file():
        raise InputError(f"music file not found: {source.name}")
    target = ctx.path(f"music-user{source.suffix.lower()}")
    if source.resolve() != target.resolve():
        await asyncio.to_thread(shutil.copyfile, source, target)
    return target


async def _effects(
    ctx: JobContext, makers: Sequence[SoundMaker], binary: str
) -> tuple[dict[str, object], str]:
    """The effects (made side by side) as fields of the bed, and who made them."""
    wanted = [("title_hit", TITLE_HIT, TITLE_HIT_LUFS)]
    if len(ctx.script.scenes) > 1:
        wanted.insert(0, ("transition", TRANSITION, TRANSITION_LUFS))

    async def one(name: str, prompt: str, seconds: float) -> tuple[str, Path, float]:
        out = ctx.path(f"sfx-{name}")
        make = partial(_effect, prompt=prompt, seconds=seconds, out=out, binary=binary)
        served = await first_success(makers, make, stage="effects")
        path, loudness = served.value
        return served.provider, path, loudness

    # Every effect ends before any failure is raised: none is left writing its file.
    results = await asyncio.gather(
        *(one(name, *sound) for name, sound, _ in wanted), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    made = [result for result in results if not isinstance(result, BaseException)]
    update: dict[str, object] = {}
    for (name, _, level), (_, path, loudness) in zip(wanted, made, strict=True):
        update[name] = path
        update[f"{name}_gain_db"] = _gain(level, loudness)
    return update, "+".join(sorted({provider for provider, _, _ in made}))


async def _effect(
    maker: SoundMaker, *, prompt: str, seconds: float, out: Path, binary: str
) -> tuple[Path, float]:
    """One maker's effect and its loudness: within the maker's turn, so an answer ffmpeg
    cannot read hands over to the next maker."""
    made = await maker.effect(prompt, seconds=seconds, out=out)
    return made, await _loudness(made, binary)


def _gain(target: float, loudness: float) -> float:
    if loudness <= _SILENT_LUFS:
        raise ProviderError("the sound is silent", provider="music")
    return round(min(max(target - loudness, -_MAX_GAIN_DB), _MAX_GAIN_DB), 2)


async def _loudness(path: Path, binary: str, out: list[str] | None = None) -> float:
    """Integrated loudness of ``path``'s first audio stream; ``out`` adds output arguments
    (a transcode) to the same run. Unreadable input or no audio: ProviderError."""
    args = ["-nostats", "-i", file_url(path), "-map", "0:a:0", "-vn", "-af"]
    args += ["ebur128=framelog=quiet", *(out or ["-f", "null", "-"])]
    run = await capture_ffmpeg(args, binary=binary, timeout=_PROCESS_TIMEOUT, stage="music")
    try:
        raise_for_run(run, "music")
        return parse_summary(summary_of(run.stderr, None))[0]
    except (ReelError, ValueError):
        raise ProviderError(f"{path.name} is not readable audio", provider="music") from None


async def _prepare_music(source: Path, target: Path, seconds: float, binary: str) -> float:
    """Transcode ``source`` to ``target`` (AAC, cut a little past the reel) and measure it:
    the gain that brings it to the bed level."""
    part = target.with_name(f".{target.name}.part")
    # Mono, as it is mixed; the fast coder is 3x quicker and this is a bed, not the voice.
    out = ["-t", f"{seconds + 0.5:.3f}", "-c:a", "aac", "-aac_coder", "fast", "-ac", "1"]
    out += ["-b:a", _MUSIC_BITRATE, "-ar", "48000", "-f", "mp4", "-y", file_url(part)]
    try:
        loudness = await _loudness(source, binary, out)
        gain = _gain(BED_LUFS, loudness)
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return gain


__all__ = [
    "MUSIC",
    "MUSIC_JSON",
    "OFF",
    "SoundMaker",
    "SFX_FOLDER",
    "assets",
    "load",
    "looks_like_audio",
    "mood_of",
    "music_credit",
    "run",
    "seed_of",
    "with_preference",
]
