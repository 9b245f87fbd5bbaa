"""Render stage: timeline from the word timings, the voice's loudness, one ffmpeg graph, under
the render queue; the music stage's bed (if any) mixed under the voice."""

from __future__ import annotations

from pathlib import Path

from ..models import RenderSpec, Voiceover
from ..queue import RenderQueue
from ..render import RenderResult, plan_cuts, render_reel, resolve_ffmpeg
from . import music
from .base import JobContext
from .subtitles import FONTS_DIR

REEL = "reel.mp4"
THUMB = "thumb.jpg"


def load(ctx: JobContext) -> bool:
    return ctx.path(REEL).is_file() and ctx.path(THUMB).is_file()


async def run(
    ctx: JobContext,
    voiceover: Voiceover,
    images: list[Path],
    audio: Path,
    subtitles: Path,
    queue: RenderQueue,
) -> RenderResult:
    cuts, total_frames = plan_cuts(voiceover.words, images, voiceover.duration)
    soundtrack = music.load(ctx)
    spec = RenderSpec(
        cuts=cuts,
        audio_path=audio,
        subtitles_path=subtitles,
        total_frames=total_frames,
        out_path=ctx.path(REEL),
        # The music stage's bed, when it ran and made one: mixed under the voice.
        bed=soundtrack.bed if soundtrack is not None else None,
    )

    async def on_position(position: int) -> None:
        await ctx.report("queued", None, str(position))

    async def on_progress(fraction: float) -> None:
        await ctx.report("render", fraction)

    async with queue.slot(ctx.job_id, on_position):
        await ctx.report("render", 0.0)
        return await render_reel(
            spec,
            binary=resolve_ffmpeg(ctx.settings.ffmpeg_binary),
            fonts_dir=FONTS_DIR,
            timeout=ctx.settings.render_timeout,
            preset=ctx.settings.x264_preset,
            crf=ctx.settings.x264_crf,
            on_progress=on_progress,
        )
