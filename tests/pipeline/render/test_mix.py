"""The music bed in the rendered audio, measured with ffmpeg on the real output.

The narration is a 1 kHz tone in bursts (words) and silences (pauses); the music a steady
110 Hz tone (the user's own track, as the music stage leaves it). Three low-passes at 200 Hz
keep the music and take the voice ~80 dB down, so ``astats`` over 100 ms windows of the
delivered AAC gives the music's level while words are spoken and in the pauses.
"""

from __future__ import annotations

import re
import statistics
import wave
from pathlib import Path

import numpy as np
import pytest

from pipeline.adapters.synth_audio import synth_hit, synth_whoosh, write_wav
from pipeline.models import AudioBed, RenderSpec, WordTiming
from pipeline.render import (
    measure_loudness,
    place_bed,
    plan_cuts,
    render_reel,
    render_soundtrack,
    resolve_ffmpeg,
    run_ffmpeg,
)
from pipeline.render.mix import FADE_IN, FADE_OUT
from pipeline.stages.music import BED_LUFS
from pipeline.stages.subtitles import FONTS_DIR
from tests.pipeline.render.test_reel import ASS, textured

pytestmark = pytest.mark.slow

WINDOW = 0.1  # seconds per astats reading
BED_LEVEL = BED_LUFS  # the music is brought to it by the music stage


@pytest.fixture(scope="module")
def binary() -> str:
    return resolve_ffmpeg()


def bursts(seconds: float, on: float, off: float, scenes: int) -> list[WordTiming]:
    """One "word" per burst, scenes spread evenly over the bursts."""
    words: list[WordTiming] = []
    start = 0.3
    while start + on <= seconds - 0.3:
        words.append(WordTiming(text="la", start=start, end=start + on, scene=0))
        start += on + off
    per_scene = max(len(words) // scenes, 1)
    return [
        w.model_copy(update={"scene": min(i // per_scene, scenes - 1)}) for i, w in enumerate(words)
    ]


async def tone_voice(path: Path, words: list[WordTiming], seconds: float, binary: str) -> Path:
    """A 1 kHz "voice" at 22.05 kHz, on during the words with 10 ms ramps, off between them."""
    rate = 22050
    t = np.arange(int(seconds * rate)) / rate
    gate = np.zeros_like(t)
    for w in words:
        gate = np.maximum(
            gate, np.clip((t - w.start) / 0.01, 0, 1) * np.clip((w.end - t) / 0.01, 0, 1)
        )
    pcm = (0.1 * np.sin(2 * np.pi * 1000 * t) * gate * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


async def tone_music(path: Path, seconds: float, binary: str) -> Path:
    """A steady 110 Hz "track" in stereo at 44.1 kHz, as a user's MP3 would decode."""
    await run_ffmpeg(
        ["-f", "lavfi", "-i", f"sine=f=110:r=44100:d={seconds}", "-ac", "2"]
        + ["-c:a", "libmp3lame", "-b:a", "128k", "-y", str(path)],
        binary=binary,
        timeout=60,
        stage="fixture",
    )
    return path


async def music_levels(media: Path, binary: str) -> list[tuple[float, float]]:
    """(window start, RMS dBFS below 200 Hz) for every 100 ms of ``media``'s audio."""
    log = media.with_suffix(".levels.txt")
    chain = ",".join(["lowpass=f=200"] * 3)
    await run_ffmpeg(
        ["-i", str(media), "-vn", "-af"]
        + [
            f"aresample=48000,{chain},asetnsamples=n={int(48000 * WINDOW)}:p=0,"
            "astats=metadata=1:reset=1,"
            f"ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file={log}"
        ]
        + ["-f", "null", "-"],
        binary=binary,
        timeout=120,
        stage="measure",
    )
    times = [float(t) for t in re.findall(r"pts_time:([\d.]+)", log.read_text())]
    levels = [float(v) for v in re.findall(r"RMS_level=(-?[\d.]+|-inf)", log.read_text())]
    return list(zip(times, levels, strict=True))


def ducking(
    levels: list[tuple[float, float]], words: list[WordTiming], seconds: float, skip: set[int]
) -> tuple[float, float]:
    """Median music level (dB) inside words and inside pauses, away from the fades, the
    edges (ducking's attack and release) and the pauses in ``skip`` (they hold a cue)."""
    speech, pauses = [], []
    for at, level in levels:
        end = at + WINDOW
        if at < FADE_IN + 0.5 or end > seconds - FADE_OUT - 0.5:
            continue
        if any(w.start + 0.15 <= at and end <= w.end - 0.05 for w in words):
            speech.append(level)
        for i, (before, after) in enumerate(zip(words, words[1:], strict=False)):
            if i not in skip and before.end + 0.45 <= at and end <= after.start - 0.05:
                pauses.append(level)
    assert len(speech) >= 10 and len(pauses) >= 5, (len(speech), len(pauses))
    return statistics.median(speech), statistics.median(pauses)


def cue_pauses(words: list[WordTiming]) -> set[int]:
    """Pauses that hold a scene cut (the transition sound plays there)."""
    return {i for i, (a, b) in enumerate(zip(words, words[1:], strict=False)) if a.scene != b.scene}


async def effects(folder: Path) -> tuple[Path, Path]:
    return (
        write_wav(folder / "whoosh.wav", synth_whoosh(1.0)),
        write_wav(folder / "hit.wav", synth_hit(2.0)),
    )


async def test_the_rendered_reel_ducks_the_music_under_words(binary: str, tmp_path: Path) -> None:
    seconds = 14.0
    words = bursts(seconds, on=2.0, off=1.5, scenes=2)
    voice = await tone_voice(tmp_path / "voice.wav", words, seconds, binary)
    music = await tone_music(tmp_path / "track.mp3", 6.0, binary)  # shorter: it must loop
    whoosh, hit = await effects(tmp_path)
    music_lufs = (await measure_loudness(music, binary=binary, timeout=30)).integrated
    images = [textured(tmp_path / f"{i}.jpg", (720, 1280), i) for i in range(2)]
    (tmp_path / "subs.ass").write_text(ASS, encoding="utf-8")
    cuts, total = plan_cuts(words, images, seconds)
    spec = RenderSpec(
        cuts=cuts,
        audio_path=voice,
        subtitles_path=tmp_path / "subs.ass",
        total_frames=total,
        out_path=tmp_path / "out" / "reel.mp4",
        bed=AudioBed(
            music=music,
            music_gain_db=BED_LEVEL - music_lufs,
            transition=whoosh,
            transition_gain_db=-6.0,
            title_hit=hit,
            title_hit_gain_db=-6.0,
        ),
    )
    result = await render_reel(spec, binary=binary, fonts_dir=FONTS_DIR, timeout=300)

    speech, pause = ducking(
        await music_levels(result.path, binary), words, seconds, cue_pauses(words)
    )
    print(f"rendered reel: music {speech:.1f} dB under words, {pause:.1f} dB in pauses")
    assert pause - speech >= 15.0, (speech, pause)
    assert pause > -40.0, pause  # back up in the pauses: audible, not merely less ducked
    loudness = await measure_loudness(result.path, binary=binary, timeout=30)
    print(f"rendered reel: {loudness}")
    assert abs(loudness.integrated - -14.0) <= 1.0 and loudness.true_peak <= -1.0, loudness


async def test_music_off_is_the_voice_alone(binary: str, tmp_path: Path) -> None:
    seconds = 6.0
    words = bursts(seconds, on=1.5, off=1.0, scenes=1)
    voice = await tone_voice(tmp_path / "voice.wav", words, seconds, binary)
    cuts, total = plan_cuts(words, [tmp_path / "0.jpg"], seconds)
    spec = RenderSpec(
        cuts=cuts,
        audio_path=voice,
        subtitles_path=tmp_path / "subs.ass",
        total_frames=total,
        out_path=tmp_path / "reel.m4a",
        bed=AudioBed(),  # what the music stage leaves when music is off
    )
    assert place_bed(spec) is None
    await render_soundtrack(spec, spec.out_path, binary=binary, timeout=60)
    levels = [level for _, level in await music_levels(spec.out_path, binary)]
    # Nothing under 200 Hz but the voice's own leakage, 60 dB and more below a bed.
    assert max(levels) < -80.0, max(levels)


@pytest.mark.parametrize(
    ("seconds", "on", "off", "scenes"),
    [(3.0, 0.9, 0.6, 2), (180.0, 2.5, 1.5, 12)],
    ids=["3s", "3min"],
)
async def test_short_and_long_reels_mix_on_target(
    binary: str, tmp_path: Path, seconds: float, on: float, off: float, scenes: int
) -> None:
    words = bursts(seconds, on=on, off=off, scenes=scenes)
    voice = await tone_voice(tmp_path / "voice.wav", words, seconds, binary)
    music = await tone_music(tmp_path / "track.mp3", 20.0, binary)
    whoosh, hit = await effects(tmp_path)
    music_lufs = (await measure_loudness(music, binary=binary, timeout=30)).integrated
    cuts, total = plan_cuts(words, [tmp_path / f"{i}.jpg" for i in range(scenes)], seconds)
    spec = RenderSpec(
        cuts=cuts,
        audio_path=voice,
        subtitles_path=tmp_path / "subs.ass",
        total_frames=total,
        out_path=tmp_path / "reel.m4a",
        bed=AudioBed(
            music=music,
            music_gain_db=BED_LEVEL - music_lufs,
            transition=whoosh,
            transition_gain_db=-6.0,
            title_hit=hit,
            title_hit_gain_db=-6.0,
        ),
    )
    await render_soundtrack(spec, spec.out_path, binary=binary, timeout=120)

    loudness = await measure_loudness(spec.out_path, binary=binary, timeout=60)
    print(f"{seconds:g} s: {loudness}")
    assert abs(loudness.integrated - -14.0) <= 1.0 and loudness.true_peak <= -1.0, loudness
    levels = await music_levels(spec.out_path, binary)
    assert levels[-1][0] >= seconds - 0.2  # the mix lasts as long as the voice
    if seconds > 10:
        speech, pause = ducking(levels, words, seconds, cue_pauses(words))
        print(f"{seconds:g} s: music {speech:.1f} dB under words, {pause:.1f} dB in pauses")
        assert pause - speech >= 15.0, (speech, pause)
    else:
        # Too short for steady windows: the bed is there, and under the limit of the mix.
        assert max(level for _, level in levels) > -40.0, levels
