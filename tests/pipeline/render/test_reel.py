from __future__ import annotations

import asyncio
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.errors import RenderError
from pipeline.models import RenderSpec, WordTiming
from pipeline.render import (
    count_frames,
    measure_loudness,
    plan_cuts,
    probe,
    render_reel,
    resolve_ffmpeg,
    run_ffmpeg,
)
from tests.render_metrics import motion_jitter

FONTS = Path(__file__).resolve().parents[3] / "pipeline" / "assets" / "fonts"
ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 720
PlayResY: 1280

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Noto Sans,66,&H0000D4FF,&H00FFFFFF,&H00000000,&H80000000,-1,0,0,0,100,100,\
0,0,1,5,2,2,40,40,220,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.00,0:00:02.98,Default,,0,0,0,,{\\k50}ONE {\\k50}TWO {\\k60}THREE
Dialogue: 0,0:00:03.10,0:00:05.98,Default,,0,0,0,,{\\k80}FOUR {\\k80}FIVE
Dialogue: 0,0:00:06.10,0:00:08.90,Default,,0,0,0,,{\\k90}SIX {\\k90}SEVEN
"""
WORDS = [
    WordTiming(text="one", start=0.1, end=2.8, scene=0),
    WordTiming(text="four", start=3.2, end=5.8, scene=1),
    WordTiming(text="six", start=6.2, end=8.8, scene=2),
]


@pytest.fixture(scope="module")
def binary() -> str:
    return resolve_ffmpeg()


def textured(path: Path, size: tuple[int, int], seed: int, grain: float = 4.0) -> Path:
    """A photo-like still: smooth colour noise at a few scales, fine grain and outlines."""
    rng = np.random.default_rng(seed)
    width, height = size
    pixels = np.zeros((height, width, 3), np.float32)
    for cells, amplitude in ((6, 90.0), (24, 45.0)):
        coarse = (rng.random((cells, cells, 3)) * 255).astype(np.uint8)
        smooth = Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC)
        pixels += (np.asarray(smooth, np.float32) - 128) * amplitude / 128
    pixels += 128 + rng.normal(0, grain, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(15, 150))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 255, 255), width=3)
    image.save(path, quality=90)
    return path


async def silent_aac(path: Path, seconds: float, binary: str) -> Path:
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", str(seconds)]
        + ["-c:a", "aac", "-b:a", "96k", "-f", "mp4", str(path)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    return path


async def narration(path: Path, binary: str) -> Path:
    """Narration as a synth leaves it: quiet (about -39 LUFS), 22.05 kHz, bursts and pauses."""
    envelope = "0.1+0.9*gt(sin(2*PI*3*t),0.1)"
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "anoisesrc=d=9:c=pink:r=22050:a=0.1:seed=3"]
        + ["-af", f"volume='{envelope}':eval=frame", "-ac", "1", str(path)],
        binary=binary,
        timeout=30,
        stage="fixture",
    )
    return path


def reel_spec(
    inputs: Path, out_dir: Path, audio: Path, duration: float, grain: float = 4.0
) -> RenderSpec:
    sizes = [(1600, 1200), (1080, 1920), (900, 1600)]
    images = [textured(inputs / f"img{i}.jpg", size, i, grain) for i, size in enumerate(sizes)]
    subtitles = inputs / "subs.ass"
    subtitles.write_text(ASS, encoding="utf-8")
    cuts, total = plan_cuts(WORDS, images, duration)
    return RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=subtitles,
        total_frames=total,
        out_path=out_dir / "reel.mp4",
    )


@pytest.mark.slow
async def test_render_a_three_scene_reel(binary: str, tmp_path: Path) -> None:
    # Quotes, colons, commas, brackets, a backslash and a '%' must all survive the graph.
    inputs = tmp_path / "in: it's [a], b; c\\ %d"
    out_dir = tmp_path / "out: it's [x], y; %03d"
    inputs.mkdir()
    audio = await narration(inputs / "voice.wav", binary)
    audio_info = await probe(audio, binary=binary)
    assert audio_info.duration is not None
    spec = reel_spec(inputs, out_dir, audio, audio_info.duration)
    fractions: list[float] = []

    async def record(fraction: float) -> None:
        fractions.append(fraction)

    result = await render_reel(
        spec, binary=binary, fonts_dir=FONTS, timeout=120, on_progress=record
    )

    assert result.path == spec.out_path and result.thumb == out_dir / "thumb.jpg"
    assert sorted(p.name for p in out_dir.iterdir()) == ["reel.mp4", "thumb.jpg"]
    info = await probe(result.path, binary=binary)
    assert (info.width, info.height, info.fps) == (720, 1280, 30.0)
    assert (info.video_codec, info.profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.color_range, info.color_space) == ("tv", "bt709")
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48000, "mono")
    assert info.duration is not None and abs(info.duration - audio_info.duration) <= 0.1
    loudness = await measure_loudness(result.path, binary=binary, timeout=30)
    assert abs(loudness.integrated - -14.0) <= 1.0 and loudness.true_peak <= -1.0, loudness
    expected = math.ceil(audio_info.duration * 30 - 1e-6)
    assert spec.total_frames == expected == result.frames
    assert await count_frames(result.path, binary=binary) == expected
    assert result.size_bytes <= 10_000_000 * info.duration / 60
    assert result.path.read_bytes()[4:8] == b"ftyp"
    assert b"moov" in result.path.read_bytes()[:65536]  # faststart: the index comes first
    with Image.open(result.thumb) as thumb:
        assert thumb.size == (360, 640)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)

    jitter = motion_jitter(result.path, binary=binary)
    assert jitter.rms < 0.4
    assert len(jitter.cuts) == 2
    # Landscape scene 0 pans left, portrait scene 1 right, scene 2 up: whole pixels.
    directions = [(round(dx), round(dy)) for dx, dy in jitter.velocities]
    assert directions == [(-1, 0), (1, 0), (0, -1)]


@pytest.mark.slow
async def test_colours_survive_the_render(binary: str, tmp_path: Path) -> None:
    # PROVIDERS.md: without the BT.709 conversion and tags red (220,40,40) played back
    # as (251,48,26).
    colours = [(220, 40, 40), (40, 200, 60), (30, 60, 220), (128, 128, 128)]
    still = Image.new("RGB", (720, 1280))
    for index, colour in enumerate(colours):
        still.paste(colour, (0, index * 320, 720, (index + 1) * 320))
    still.save(tmp_path / "colours.png")
    (tmp_path / "subs.ass").write_text(ASS.split("[Events]")[0], encoding="utf-8")
    audio = await silent_aac(tmp_path / "silence.m4a", 1.0, binary)
    cuts, total = plan_cuts([], [tmp_path / "colours.png"], 1.0)
    spec = RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=tmp_path / "subs.ass",
        total_frames=total,
        out_path=tmp_path / "out" / "reel.mp4",
    )
    result = await render_reel(spec, binary=binary, fonts_dir=FONTS, timeout=60)
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-loglevel",
        "error",
        "-i",
        str(result.path),
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
        stdout=asyncio.subprocess.PIPE,
    )
    raw, _ = await proc.communicate()
    frame = np.frombuffer(raw, np.uint8).reshape(1280, 720, 3)
    for index, colour in enumerate(colours):
        seen = frame[index * 320 + 160, 360].astype(int)
        assert np.abs(seen - colour).max() <= 8, (colour, seen)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["callback", "timeout", "cancel", "bad image", "bad audio"])
async def test_failures_leave_nothing_behind(binary: str, tmp_path: Path, failure: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    # A voice with some loudness work, so a failing still meets the analysis under way.
    audio = await narration(inputs / "voice.wav", binary)
    spec = reel_spec(inputs, tmp_path / "out", audio, 9.0)
    if failure == "bad image":
        spec.cuts[1].image.write_bytes(b"not a jpeg")
    if failure == "bad audio":
        audio.write_bytes(b"RIFF but not a wave file")

    async def explode(fraction: float) -> None:
        if fraction > 0.1:
            raise LookupError("the front went away")

    render = render_reel(
        spec,
        binary=binary,
        fonts_dir=FONTS,
        timeout=0.3 if failure == "timeout" else 60,
        on_progress=explode if failure == "callback" else None,
    )
    if failure == "cancel":
        task = asyncio.create_task(render)
        await asyncio.sleep(1.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        stages = {"timeout": "render", "bad image": "stills", "bad audio": "loudness"}
        with pytest.raises(RenderError if failure in stages else LookupError) as caught:
            await render
        if isinstance(caught.value, RenderError):
            assert caught.value.stage == stages[failure]
    # Nothing at the outputs and nothing half-written; whole segments stay for a retry.
    left = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*"))
    assert all(p.parts[0] == "segments" and p.suffix in {".mp4", ".m4a"} for p in left[1:])
    assert left[:1] in ([], [Path("segments")])
    leftover = [
        cmdline
        for cmdline in Path("/proc").glob("[0-9]*/cmdline")
        if str(tmp_path).encode() in cmdline.read_bytes()
    ]
    assert leftover == []
