"""Scene segments joined by stream copy: exact frames, the one-graph picture, the karaoke in
place, and a swap that encodes one segment again."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.models import RenderSpec
from pipeline.render import count_frames, render_reel, resolve_ffmpeg, run_ffmpeg, segments
from pipeline.render.graph import Codec
from pipeline.render.reel import encode_segments
from pipeline.render.stills import prepare_still
from tests.pipeline.render.test_reel import ASS, FONTS, narration, reel_spec, textured
from tests.render_reference import one_graph_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def binary() -> str:
    return resolve_ffmpeg()


async def _spec(
    tmp_path: Path, binary: str, name: str = "out", ass: str = ASS, grain: float = 4.0
) -> RenderSpec:
    inputs = tmp_path / f"in-{name}"
    inputs.mkdir()
    audio = await narration(inputs / "voice.wav", binary)
    spec = reel_spec(inputs, tmp_path / name, audio, 9.0, grain)
    spec.subtitles_path.write_text(ass, encoding="utf-8")
    return spec


async def _frame(video: Path, index: int, binary: str) -> np.ndarray:
    proc = await asyncio.create_subprocess_exec(
        *[binary, "-loglevel", "error", "-i", str(video), "-vf", f"select=eq(n\\,{index})"],
        *["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        stdout=asyncio.subprocess.PIPE,
    )
    raw, _ = await proc.communicate()
    return np.frombuffer(raw, np.uint8).reshape(1280, 720, 3).astype(int)


async def _timestamps(video: Path, binary: str) -> list[int]:
    proc = await asyncio.create_subprocess_exec(
        *[binary, "-hide_banner", "-i", str(video), "-map", "0:v", "-vf", "showinfo"],
        *["-f", "null", "-"],
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    return [int(m) for m in re.findall(r"pts:\s*(\d+)", err.decode())]


async def _ssim(one: Path, two: Path, binary: str) -> float:
    proc = await asyncio.create_subprocess_exec(
        *[binary, "-hide_banner", "-i", str(one), "-i", str(two)],
        *["-lavfi", "[0:v][1:v]ssim", "-f", "null", "-"],
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    found = re.search(r"SSIM .* All:([\d.]+)", err.decode())
    assert found is not None, err.decode()[-500:]
    return float(found.group(1))


async def test_segments_join_to_the_one_graph_picture(binary: str, tmp_path: Path) -> None:
    # Without per-pixel grain: on grain any two encodes of the same frames differ by encoder
    # noise alone (the one graph against itself with -threads 1: SSIM 0.987), which would
    # hide what this compares. On smooth photos that noise is 0.9986 and segments score 0.993.
    spec = await _spec(tmp_path, binary, grain=0.0)
    codec = Codec()
    result = await render_reel(spec, binary=binary, fonts_dir=FONTS, timeout=120)
    assert result.segments_encoded == len(spec.cuts) == 3
    assert not segments.folder_for(spec).exists()  # removed once the reel exists

    # Exactly duration x 30 frames, on an unbroken 1/30 s grid: no gap, no duplicate.
    assert await count_frames(result.path, binary=binary) == spec.total_frames == 270
    stamps = await _timestamps(result.path, binary)
    steps = {b - a for a, b in zip(stamps, stamps[1:], strict=False)}
    assert len(stamps) == 270 and stamps[0] == 0 and len(steps) == 1

    reference = tmp_path / "one-graph.mp4"
    motions = [
        await asyncio.to_thread(
            prepare_still,
            cut.image,
            tmp_path / f"still{cut.scene}.jpg",
            scene=cut.scene,
            frames=cut.frames,
            size=(720, 1280),
        )
        for cut in spec.cuts
    ]
    ref_spec = spec.model_copy(update={"out_path": reference})
    await run_ffmpeg(
        one_graph_args(ref_spec, motions, fonts_dir=FONTS, codec=codec),
        binary=binary,
        timeout=120,
        stage="reference",
    )
    assert await _ssim(result.path, reference, binary) >= 0.99


async def test_karaoke_sits_at_its_offset_in_a_late_segment(binary: str, tmp_path: Path) -> None:
    with_words = await _spec(tmp_path, binary, "words", grain=0.0)
    without = await _spec(tmp_path, binary, "bare", ASS.split("[Events]")[0], grain=0.0)
    late = with_words.cuts[2]
    assert late.start_frame >= 150  # scene 2 starts 5 s in: its segment is stamped from there
    one = await render_reel(with_words, binary=binary, fonts_dir=FONTS, timeout=120)
    two = await render_reel(without, binary=binary, fonts_dir=FONTS, timeout=120)

    async def text_difference(frame: int) -> float:
        # The subtitles sit at the bottom (alignment 2, margin 220 px).
        a, b = await _frame(one.path, frame, binary), await _frame(two.path, frame, binary)
        return float(np.abs(a - b)[900:1100].mean())

    # "SIX SEVEN" shows from 6.10 s (frame 183) to 8.90 s; at 6.03 s nothing is shown.
    quiet, shown, later = [await text_difference(frame) for frame in (181, 186, 200)]
    assert quiet < 1 and shown > 5 and later > 5, (quiet, shown, later)


async def test_a_swap_encodes_only_that_scene_again(binary: str, tmp_path: Path) -> None:
    spec = await _spec(tmp_path, binary)
    codec = Codec()
    encoded: list[int] = []
    parts = segments.plan(spec, codec)
    await encode_segments(spec, parts, codec=codec, binary=binary, fonts_dir=FONTS)
    assert all(part.ready for part in parts)
    # The user swaps scene 2's picture: a new file, so a new key for that scene only.
    swapped = textured(spec.cuts[1].image.with_name("other.jpg"), (1200, 1600), 7)
    spec.cuts[1] = spec.cuts[1].model_copy(update={"image": swapped})
    again = segments.plan(spec, codec)
    assert [part.ready for part in again] == [True, False, True]
    assert again[0].path == parts[0].path and again[1].path != parts[1].path

    async def progress(fraction: float) -> None:
        encoded.append(1)

    result = await render_reel(
        spec, binary=binary, fonts_dir=FONTS, timeout=120, on_progress=progress
    )
    assert result.segments_encoded == 1
    assert await count_frames(result.path, binary=binary) == spec.total_frames
