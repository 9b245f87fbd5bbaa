"""render_reel: scene segments (encoded now, or kept from a speculative render) beside the
sound track, joined by stream copy; a thumbnail; atomic outputs."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pipeline.artifacts import THUMB
from pipeline.concurrency import both
from pipeline.errors import RenderError
from pipeline.models import RenderSpec
from pipeline.render import segments
from pipeline.render.encoders import SOFTWARE
from pipeline.render.ffmpeg import file_url, run_ffmpeg
from pipeline.render.graph import Codec, build_join_args
from pipeline.render.mix import place_bed
from pipeline.render.probe import MediaInfo, probe
from pipeline.render.segments import Segment, encode_segment

logger = logging.getLogger(__name__)

A = TypeVar("A")

THUMB_NAME = THUMB
THUMB_AT = 1.0  # seconds in: past the first frame, which often is a plain title card
_FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".woff", ".woff2"}
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
    segments_encoded: int = 0  # the rest were ready, from a speculative render


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
    segments: float = 0.0
    audio: float = 0.0
    join: float = 0.0
    encoded: int = 0  # segments encoded by this render (the rest were ready)


async def _timed(work: Coroutine[Any, Any, A]) -> tuple[A, float]:
    started = time.monotonic()
    return await work, time.monotonic() - started


class _FrameProgress:
    """The encode's share of the bar: frames of the segments this render encodes."""

    def __init__(self, total: int, on_progress: Callable[[float], Awaitable[None]] | None) -> None:
        self.total = max(total, 1)
        self.done: dict[int, float] = {}
        self.on_progress = on_progress

    def for_segment(self, segment: Segment) -> Callable[[float], Awaitable[None]] | None:
        if self.on_progress is None:
            return None

        async def report(fraction: float) -> None:
            self.done[segment.index] = fraction * segment.frames
            if self.on_progress is not None:
                await self.on_progress(0.99 * sum(self.done.values()) / self.total)

        return report


async def encode_segments(
    spec: RenderSpec,
    segments: list[Segment],
    *,
    codec: Codec,
    binary: str,
    fonts_dir: Path,
    nice: int = 0,
    parallel: int = 2,
    on_progress: Callable[[float], Awaitable[None]] | None = None,
) -> None:
    """Encode the segments of ``segments`` that are not ready, ``parallel`` at a time."""
    missing = [segment for segment in segments if not segment.ready]
    progress = _FrameProgress(sum(s.frames for s in missing), on_progress)
    # One more under way than encode at once: its still is made (Pillow) while the others
    # encode, then its ffmpeg waits for the cores (pipeline.render.ffmpeg's turns). One at a
    # time, each still left the cores idle for ~0.1 s: 12% of the demo's render.
    gate = asyncio.Semaphore(parallel + 1)

    async def one(segment: Segment) -> None:
        async with gate:
            await encode_segment(
                spec,
                segment,
                codec=codec,
                binary=binary,
                fonts_dir=fonts_dir,
                nice=nice,
                on_frames=progress.for_segment(segment),
            )

    async with asyncio.TaskGroup() as group:
        for segment in missing:
            group.create_task(one(segment))


def _listing(parts: list[Segment], work: Path, fps: int) -> Path:
    """The concat demuxer's list of ``parts``, in order."""
    listing = work / "segments.txt"
    lines = ["ffconcat version 1.0"]
    for part in parts:
        quoted = str(part.path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        # Exact, so the demuxer's offsets are whole frames and no float drift accumulates.
        lines.append(f"duration {part.frames / fps:.6f}")
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing


async def _render(
    spec: RenderSpec,
    work: Path,
    timings: _Timings,
    *,
    binary: str,
    fonts_dir: Path,
    codec: Codec,
    nice: int,
    parallel: int,
    on_progress: Callable[[float], Awaitable[None]] | None,
) -> MediaInfo:
    """Everything that writes into ``work``; returns the probe of the finished reel."""
    parts = await asyncio.to_thread(segments.plan, spec, codec)
    timings.encoded = sum(not part.ready for part in parts)
    # The sound (loudness analysis, then AAC) is one small process beside the segments'.
    (_, timings.segments), (sound, timings.audio) = await both(
        _timed(
            encode_segments(
                spec,
                parts,
                codec=codec,
                binary=binary,
                fonts_dir=_font_dir(fonts_dir, work),
                nice=nice,
                parallel=parallel,
                on_progress=on_progress,
            )
        ),
        _timed(segments.encode_sound(spec, binary=binary, nice=nice)),
    )
    joined = work / spec.out_path.name
    started = time.monotonic()
    await run_ffmpeg(
        build_join_args(_listing(parts, work, spec.fps), sound, joined),
        binary=binary,
        timeout=_PROCESS_TIMEOUT,
        stage="render",
    )
    timings.join = time.monotonic() - started
    await _thumbnail(joined, work / THUMB_NAME, spec=spec, binary=binary, timeout=60.0)
    return await probe(joined, binary=binary)


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
    nice: int = 0,
    threads: int = 0,
    parallel: int = 2,
) -> RenderResult:
    """Render ``spec`` to ``spec.out_path`` and ``thumb.jpg`` beside it, within ``timeout`` s.

    Each scene is a segment (:mod:`pipeline.render.segments`); those already encoded for
    this very input (by a speculative render during the review) are used as they are, the
    others are encoded ``parallel`` at a time, at ``nice`` lower CPU priority. The sound is
    ``spec.audio_path`` (any format ffmpeg reads) through its loudness chain, at -14 LUFS and
    <= -1 dBTP, with the bed under it, as AAC. Outputs appear atomically; on any failure,
    timeout or cancellation ffmpeg is killed, the temporary files are removed and nothing
    is left at the outputs. Once the reel exists its segments are removed.
    """
    timings = _Timings(started=time.monotonic())
    _validate(spec, fonts_dir)
    out, thumb = spec.out_path, spec.out_path.with_name(THUMB_NAME)
    out.parent.mkdir(parents=True, exist_ok=True)
    codec = Codec(encoder, preset, crf, vaapi_device, threads)
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
                codec=codec,
                nice=nice,
                parallel=parallel,
                on_progress=on_progress,
            )
        os.replace(work / out.name, out)
        os.replace(work / THUMB_NAME, thumb)
    except TimeoutError:
        raise RenderError(f"render timed out after {timeout:.0f} s", stage="render") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    await asyncio.to_thread(segments.drop, spec)
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
        segments_encoded=timings.encoded,
    )
    logger.info(
        "rendered %s: %d frames, %.1f MB in %.1f s (%d of %d segments encoded in %.2f s, "
        "sound %.2f s beside them, join %.2f s)",
        out.name,
        result.frames,
        result.size_bytes / 1e6,
        result.seconds,
        timings.encoded,
        len(spec.cuts),
        timings.segments,
        timings.audio,
        timings.join,
    )
    if on_progress is not None:
        await on_progress(1.0)
    return result
