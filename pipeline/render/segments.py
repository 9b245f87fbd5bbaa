"""Scene segments: each scene encoded on its own, kept by a key of everything it depends on.

A segment's file name is a hash of what went into it: the scene's picture (by content: a
source that writes the same picture again must not void the segment), its place and length
in the reel, the subtitles file, the reel's
size, frame rate and scene count (they set the bitrate cap), and the codec. So a swap changes
one scene's key and only that segment is encoded again; a speculative encode made while the
user reviewed the pictures is found by the render and not redone; a stale one is never used.

Segments live in ``segments/`` beside the reel and appear atomically (``*.part`` first, so a
killed encode leaves only what :func:`pipeline.cleanup.sweep_partials` removes).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.concurrency import to_the_end
from pipeline.models import RenderSpec
from pipeline.render.ffmpeg import run_ffmpeg
from pipeline.render.graph import Codec, build_audio_args, build_segment_args, segment_maxrate
from pipeline.render.mix import place_bed
from pipeline.render.narration import VoicePlan, plan_voice
from pipeline.render.stills import prepare_still

logger = logging.getLogger(__name__)

FOLDER = "segments"
# Bump when the segment graph changes in a way the key does not see.
_VERSION = "1"
_PROCESS_TIMEOUT = 3600.0


def folder_for(spec: RenderSpec) -> Path:
    return spec.out_path.parent / FOLDER


@functools.lru_cache(maxsize=512)
def _content(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stat(path: Path) -> str:
    """A file's content hash (blocking: the callers run in threads), remembered per version
    of the file."""
    info = path.stat()
    return _content(path.resolve(), info.st_size, info.st_mtime_ns)


def _digest(*parts: object) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Segment:
    index: int
    frames: int
    path: Path

    @property
    def ready(self) -> bool:
        return self.path.is_file()


def plan(spec: RenderSpec, codec: Codec) -> list[Segment]:
    """Every scene's segment (encoded or not) for ``spec`` with ``codec`` (blocking: it
    reads the inputs to hash them; run it in a thread)."""
    folder = folder_for(spec)
    shared = (
        _VERSION,
        spec.width,
        spec.height,
        spec.fps,
        spec.total_frames,
        len(spec.cuts),
        segment_maxrate(spec),
        _stat(spec.subtitles_path),
        codec.key(),
    )
    return [
        Segment(
            index,
            cut.frames,
            folder / f"{_digest(*shared, cut.scene, cut.start_frame, cut.frames, _stat(cut.image))}"
            ".mp4",
        )
        for index, cut in enumerate(spec.cuts)
    ]


def audio_path(spec: RenderSpec) -> Path:
    """Where the reel's encoded sound is kept: keyed by the narration and the bed (blocking,
    as ``plan``)."""
    bed = place_bed(spec)
    sources = [_stat(p) for p in (bed.sources if bed is not None else [])]
    key = _digest(_VERSION, spec.total_frames, spec.fps, _stat(spec.audio_path), bed, *sources)
    return folder_for(spec) / f"audio-{key}.m4a"


async def _publish(encode: Callable[[Path], Awaitable[None]], target: Path) -> Path:
    """Run ``encode`` into a ``.part`` file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        await encode(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


async def encode_segment(
    spec: RenderSpec,
    segment: Segment,
    *,
    codec: Codec,
    binary: str,
    fonts_dir: Path,
    nice: int = 0,
    on_frames: Callable[[float], Awaitable[None]] | None = None,
) -> Path:
    """Prepare scene ``segment.index``'s still and encode its segment (if not there yet)."""
    if segment.ready:
        return segment.path
    cut = spec.cuts[segment.index]
    scratch = Path(tempfile.mkdtemp(prefix=".still.", suffix=".part", dir=_scratch_root(spec)))
    try:
        # A cancelled Pillow thread still writes: it is waited for (~0.1 s) before the
        # folder goes.
        motion = await to_the_end(
            asyncio.to_thread(
                prepare_still,
                cut.image,
                scratch / "still.jpg",
                scene=cut.scene,
                frames=cut.frames,
                size=(spec.width, spec.height),
            )
        )

        async def encode(out: Path) -> None:
            args = build_segment_args(
                spec, segment.index, motion, out, fonts_dir=fonts_dir, codec=codec
            )
            await run_ffmpeg(
                args,
                binary=binary,
                timeout=_PROCESS_TIMEOUT,
                stage="render",
                total_frames=cut.frames,
                on_progress=on_frames,
                nice=nice,
                cores=codec.threads or os.cpu_count() or 1,  # 0: ffmpeg's own, every core
            )

        return await _publish(encode, segment.path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # one small file


async def encode_sound(spec: RenderSpec, *, binary: str, nice: int = 0) -> Path:
    """The reel's whole sound track (narration through its loudness chain, the bed under it),
    analysed and encoded once: kept if it is there already."""
    target = await asyncio.to_thread(audio_path, spec)
    if target.is_file():
        return target
    voice = await plan_voice(spec.audio_path, binary=binary, timeout=_PROCESS_TIMEOUT)
    _check_duration(spec, voice)

    async def encode(out: Path) -> None:
        args = build_audio_args(
            spec,
            out,
            audio_filter=voice.filters,
            bed=place_bed(spec),
            ceiling_db=voice.ceiling_db,
        )
        await run_ffmpeg(args, binary=binary, timeout=_PROCESS_TIMEOUT, stage="audio", nice=nice)

    return await _publish(encode, target)


def _check_duration(spec: RenderSpec, voice: VoicePlan) -> None:
    seconds = voice.info.duration
    if seconds and abs(seconds - spec.total_frames / spec.fps) > 0.1:
        logger.warning("audio lasts %.3f s but the reel has %d frames", seconds, spec.total_frames)


def _scratch_root(spec: RenderSpec) -> Path:
    root = folder_for(spec)
    root.mkdir(parents=True, exist_ok=True)
    return root


def drop(spec_or_folder: RenderSpec | Path) -> None:
    """Remove every kept segment (blocking: run it in a thread)."""
    folder = spec_or_folder if isinstance(spec_or_folder, Path) else folder_for(spec_or_folder)
    shutil.rmtree(folder, ignore_errors=True)
