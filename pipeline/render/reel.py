"""render_reel: stills in threads beside the voice's loudness analysis, one ffmpeg graph, a
thumbnail; atomic outputs."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from pipeline.artifacts import THUMB
from pipeline.concurrency import both
from pipeline.errors import RenderError
from pipeline.models import RenderSpec
from pipeline.render.encoders import SOFTWARE
from pipeline.render.ffmpeg import file_url, run_ffmpeg
from pipeline.render.graph import build_render_args
from pipeline.render.mix import place_bed
from pipeline.render.narration import VoicePlan, plan_voice
from pipeline.render.probe import MediaInfo, probe
from pipeline.render.stills import Motion, prepare_still

logger = logging.getLogger(__name__)

A = TypeVar("A")

THUMB_NAME = THUMB
THUMB_AT = 1.0  # seconds in: past the first frame, which often is a plain title card
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".woff", ".woff2"}
# Past this the graph goes in a file: one argument may not exceed 128 KiB on Linux.
_INLINE_GRAPH_LIMIT = 32_000
# Share of the progress bar the stills take; the encode fills the rest.
_STILLS_SHARE = 0.05
_PROCESS_TIMEOUT = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class RenderResult:
    path: Path
    thumb: Path
    width: int
    height: int
    duration: float
    frames: int
    size_bytes: int
    seconds: float
    encoder: str = SOFTWARE


def _validate(spec: RenderSpec, fonts_dir: Path) -> None:
    if not spec.cuts:
        raise RenderError("nothing to render: no scenes", stage="render")
    frames = sum(cut.frames for cut in spec.cuts)
    if frames != spec.total_frames or any(cut.frames < 1 for cut in spec.cuts):
        raise RenderError(
            f"cuts cover {frames} frames, the reel has {spec.total_frames}", stage="render"
        )
    bed = place_bed(spec)
    extra = bed.sources if bed is not None else []
    for path in (spec.audio_path, spec.subtitles_path, *(cut.image for cut in spec.cuts), *extra):
        if not path.is_file():
            raise RenderError(f"missing input {path.name}", stage="render")
    if not fonts_dir.is_dir():
        raise RenderError(f"no fonts folder at {fonts_dir}", stage="render")


async def _prepare_stills(spec: RenderSpec, work: Path) -> list[Motion]:
    """Pillow work in a small thread pool; every thread is finished before this returns."""
    loop = asyncio.get_running_loop()
    size = (spec.width, spec.height)
    # Pillow releases the GIL while decoding, resizing and encoding, so threads do run in
    # parallel; more of them than cores would only hold more decoded photos in memory.
    executor = ThreadPoolExecutor(max_workers=min(len(spec.cuts), os.cpu_count() or 2))
    try:
        jobs = [
            loop.run_in_executor(
                executor,
                partial(
                    prepare_still,
                    cut.image,
                    work / f"scene{index:03d}.jpg",
                    scene=cut.scene,
                    frames=cut.frames,
                    size=size,
                ),
            )
            for index, cut in enumerate(spec.cuts)
        ]
        return list(await asyncio.gather(*jobs))
    finally:
        # On failure or cancellation the threads still running must finish before the
        # caller deletes their directory, or they would write into a removed folder.
        await asyncio.shield(asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True))


def _check_duration(spec: RenderSpec, voice: VoicePlan) -> None:
    seconds = voice.info.duration
    if seconds and abs(seconds - spec.total_frames / spec.fps) > 0.1:
        logger.warning("audio lasts %.3f s but the reel has %d frames", seconds, spec.total_frames)


def _font_dir(fonts_dir: Path, work: Path) -> Path:
    """A folder holding only the font files: libass logs an error for every other file."""
    fonts = [p for p in fonts_dir.iterdir() if p.suffix.lower() in _FONT_SUFFIXES]
    if len(fonts) == len(list(fonts_dir.iterdir())):
        return fonts_dir
    clean = work / "fonts"
    clean.mkdir()
    for font in fonts:
        (clean / font.name).symlink_to(font.resolve())
    return clean


def _spill_graph(args: list[str], work: Path) -> list[str]:
    """Move a long ``-filter_complex`` graph into a file (``-/filter_complex``)."""
    index = args.index("-filter_complex")
    if len(args[index + 1]) <= _INLINE_GRAPH_LIMIT:
        return args
    script = work / "graph.txt"
    script.write_text(args[index + 1], encoding="utf-8")
    return [*args[:index], "-/filter_complex", str(script), *args[index + 2 :]]


async def _thumbnail(
    video: Path, thumb: Path, *, spec: RenderSpec, binary: str, timeout: float
) -> None:
    at = min(THUMB_AT, spec.total_frames / spec.fps / 2)
    await run_ffmpeg(
        [
            "-y",
            "-ss",
            f"{at:.3f}",
            "-i",
            file_url(video),
            "-frames:v",
            "1",
            "-vf",
            f"scale={spec.width // 2}:{spec.height // 2}:flags=bicubic",
            "-q:v",
            "3",
            "-f",
            "image2",
            "-update",
            "1",
            file_url(thumb),
        ],
        binary=binary,
        timeout=timeout,
        stage="thumbnail",
    )


@dataclass(slots=True)
class _Timings:
    started: float
    stills: float = 0.0
    loudness: float = 0.0
    prepare: float = 0.0
    encode: float = 0.0


async def _timed(work: Coroutine[Any, Any, A]) -> tuple[A, float]:
    started = time.monotonic()
    return await work, time.monotonic() - started


async def _render(
    spec: RenderSpec,
    work: Path,
    timings: _Timings,
    *,
    binary: str,
    fonts_dir: Path,
    preset: str,
    crf: int,
    encoder: str,
    vaapi_device: str,
    on_progress: Callable[[float], Awaitable[None]] | None,
) -> MediaInfo:
    """Everything that writes into ``work``; returns the probe of the finished reel."""
    # The voice's loudness analysis (an ffmpeg thread) runs while Pillow's threads prepare
    # the stills: it needs only the voice, and takes it off the voice stage's critical path.
    # A bed needs no analysis of its own (see pipeline.render.mix).
    (motions, timings.stills), (voice, timings.loudness) = await both(
        _timed(_prepare_stills(spec, work)),
        _timed(plan_voice(spec.audio_path, binary=binary, timeout=_PROCESS_TIMEOUT)),
    )
    bed = place_bed(spec)
    _check_duration(spec, voice)
    timings.prepare = time.monotonic() - timings.started

    async def encode_progress(fraction: float) -> None:
        if on_progress is not None:
            await on_progress(_STILLS_SHARE + (1 - _STILLS_SHARE) * fraction * 0.99)

    encoding = work / spec.out_path.name
    args = build_render_args(
        spec.model_copy(update={"out_path": encoding}),
        motions,
        fonts_dir=_font_dir(fonts_dir, work),
        audio_filter=voice.filters,
        preset=preset,
        crf=crf,
        bed=bed,
        ceiling_db=voice.ceiling_db,
        encoder=encoder,
        vaapi_device=vaapi_device,
    )
    await run_ffmpeg(
        _spill_graph(args, work),
        binary=binary,
        # The caller's deadline is the real limit; this only bounds a stuck process.
        timeout=_PROCESS_TIMEOUT,
        stage="render",
        total_frames=spec.total_frames,
        on_progress=encode_progress if on_progress else None,
    )
    timings.encode = time.monotonic() - timings.started - timings.prepare
    await _thumbnail(encoding, work / THUMB_NAME, spec=spec, binary=binary, timeout=60.0)
    return await probe(encoding, binary=binary)


async def render_reel(
    spec: RenderSpec,
    *,
    binary: str,
    fonts_dir: Path,
    timeout: float,
    preset: str = "veryfast",
    crf: int = 23,
    encoder: str = SOFTWARE,
    vaapi_device: str = "",
    on_progress: Callable[[float], Awaitable[None]] | None = None,
) -> RenderResult:
    """Render ``spec`` to ``spec.out_path`` and ``thumb.jpg`` beside it, within ``timeout`` s.

    ``spec.audio_path`` is the narration as synthesised, in any format ffmpeg reads: its
    loudness is analysed while the stills are prepared (``plan_voice``), and the render
    encodes it through that chain as AAC, at -14 LUFS and <= -1 dBTP. Outputs appear
    atomically; on any failure, timeout or cancellation ffmpeg is killed, the temporary
    files are removed and nothing is left at the outputs.
    """
    timings = _Timings(started=time.monotonic())
    _validate(spec, fonts_dir)
    out, thumb = spec.out_path, spec.out_path.with_name(THUMB_NAME)
    out.parent.mkdir(parents=True, exist_ok=True)
    # In the output's folder, so the final renames stay on one filesystem.
    work = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", suffix=".render", dir=out.parent))
    try:
        if on_progress is not None:
            await on_progress(0.0)
        async with asyncio.timeout(timeout):
            info = await _render(
                spec,
                work,
                timings,
                binary=binary,
                fonts_dir=fonts_dir,
                preset=preset,
                crf=crf,
                encoder=encoder,
                vaapi_device=vaapi_device,
                on_progress=on_progress,
            )
        os.replace(work / out.name, out)
        os.replace(work / THUMB_NAME, thumb)
    except TimeoutError:
        raise RenderError(f"render timed out after {timeout:.0f} s", stage="render") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = RenderResult(
        path=out,
        thumb=thumb,
        width=info.width or spec.width,
        height=info.height or spec.height,
        duration=info.duration or spec.total_frames / spec.fps,
        frames=spec.total_frames,
        size_bytes=out.stat().st_size,
        seconds=time.monotonic() - timings.started,
        encoder=encoder,
    )
    logger.info(
        "rendered %s: %d frames, %.1f MB in %.1f s (stills %.2f s beside loudness %.2f s, "
        "encode %.1f s)",
        out.name,
        result.frames,
        result.size_bytes / 1e6,
        result.seconds,
        timings.stills,
        timings.loudness,
        timings.encode,
    )
    if on_progress is not None:
        await on_progress(1.0)
    return result
