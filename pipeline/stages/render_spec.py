"""What a render of a job is made of: its RenderSpec and its codec. The render stage and the
speculative pre-render (pipeline.studio.speculating) build both here, so a segment encoded
ahead of time has the key the render looks for."""

from __future__ import annotations

import os
from pathlib import Path

from ..artifacts import REEL
from ..models import RenderSpec, Voiceover
from ..render import Codec, encoders, plan_cuts, resolve_ffmpeg
from ..settings import Settings
from . import music
from .base import JobContext


def spec_for(
    ctx: JobContext, voiceover: Voiceover, images: list[Path], audio: Path, subtitles: Path
) -> RenderSpec:
    """The reel of ``ctx``'s job: cuts following the narration, the music stage's bed (when it
    ran and made one) mixed under the voice."""
    cuts, total_frames = plan_cuts(voiceover.words, images, voiceover.duration)
    soundtrack = music.load(ctx)
    return RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=subtitles,
        total_frames=total_frames,
        out_path=ctx.path(REEL),
        bed=soundtrack.bed if soundtrack is not None else None,
    )


async def codec_for(settings: Settings) -> Codec:
    """The codec renders use now: the configured encoder (probed once; libx264 when a
    hardware one is absent or failed) with the configured x264 settings."""
    choice = await encoders.choose(
        settings.encoder,
        binary=resolve_ffmpeg(settings.ffmpeg_binary),
        vaapi_device=settings.vaapi_device,
    )
    return Codec(
        encoder=choice.encoder,
        preset=settings.x264_preset,
        crf=settings.x264_crf,
        vaapi_device=settings.vaapi_device,
        threads=settings.render_threads or threads_per_segment(segments_at_once(settings)),
    )


def segments_at_once(settings: Settings) -> int:
    """How many segments a render encodes side by side (``render_parallel``, or by the cores).
    On two cores one encoder with both cores renders the demo ~15% slower than two with one
    each, but 50 people at once stay under 500 MB only with one (467 MB against 645 MB)."""
    return settings.render_parallel or (1 if (os.cpu_count() or 1) <= 2 else 2)


def speculative_at_once(settings: Settings) -> int:
    """How many segments the speculative pre-render encodes at once (0: none)."""
    if settings.speculative_renders is None:
        return segments_at_once(settings)
    return settings.speculative_renders


def threads_per_segment(parallel: int) -> int:
    """The cores shared between the segments a render encodes at once. An ffmpeg left to its own
    choice runs about 1.5 encoder threads per core: two at once on two cores took the demo's
    render 5.81 s against 4.83 s with one thread each, and held 353 MB against 287 MB."""
    return max(1, (os.cpu_count() or 1) // parallel)
