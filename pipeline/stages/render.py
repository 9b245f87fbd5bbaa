"""Render stage: timeline from the word timings, scene segments and the sound track joined,
under the render queue; the music stage's bed (if any) mixed under the voice."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from PIL import Image

from ..artifacts import REEL, RENDER_JSON, THUMB, THUMB_SMALL
from ..errors import RenderError
from ..files import atomic_write
from ..models import Stage, Voiceover
from ..queue import RenderQueue
from ..render import RenderResult, encoders, render_reel, resolve_ffmpeg
from .base import JobContext, read_json, write_json
from .render_spec import codec_for, spec_for
from .subtitles import FONTS_DIR

logger = logging.getLogger(__name__)

SMALL_SIDE = 320  # Telegram's limit for a video's preview; fine everywhere else


def load(ctx: JobContext) -> dict[str, Any] | None:
    """The facts of a finished render (width, height, duration, bytes), when its files are
    all there."""
    files = (REEL, THUMB, THUMB_SMALL, RENDER_JSON)
    if not all(ctx.path(name).is_file() for name in files):
        return None
    facts: dict[str, Any] = read_json(ctx.path(RENDER_JSON))
    return facts


def small_thumbnail(thumb: Path, out: Path, side: int = SMALL_SIDE) -> None:
    """A JPEG no larger than ``side`` pixels either way (blocking: run it in a thread)."""
    with Image.open(thumb) as image:
        image.thumbnail((side, side))
        small = image.convert("RGB")

    atomic_write(out, lambda f: small.save(f, "JPEG", quality=85))


async def run(
    ctx: JobContext,
    voiceover: Voiceover,
    images: list[Path],
    audio: Path,
    subtitles: Path,
    queue: RenderQueue,
) -> dict[str, Any]:
    """Render the reel and its thumbnails; returns the facts ``load`` gives back later."""
    spec = spec_for(ctx, voiceover, images, audio, subtitles)

    async def on_position(position: int) -> None:
        await ctx.report(Stage.QUEUED, position=position)

    async def on_progress(fraction: float) -> None:
        await ctx.report("render", fraction)

    binary = resolve_ffmpeg(ctx.settings.ffmpeg_binary)
    settings = ctx.settings
    codec = await codec_for(settings)

    async def render(encoder: str) -> RenderResult:
        return await render_reel(
            spec,
            binary=binary,
            fonts_dir=FONTS_DIR,
            timeout=settings.render_timeout,
            preset=codec.preset,
            crf=codec.crf,
            encoder=encoder,
            vaapi_device=codec.vaapi_device,
            on_progress=on_progress,
            nice=settings.render_nice,
            parallel=settings.render_parallel,
        )

    async with queue.slot(ctx.job_id, on_position):
        await ctx.report("render", 0.0)
        try:
            result = await render(codec.encoder)
        except RenderError as exc:
            if codec.encoder == encoders.SOFTWARE:
                raise
            # Passed its test encode, failed the real one: libx264 renders, and the next
            # render probes again.
            logger.warning(
                "job %s: %s failed, rendering with libx264: %s", ctx.job_id, codec.encoder, exc
            )
            encoders.forget(codec.encoder)
            result = await render(encoders.SOFTWARE)
        # Inside the slot, so the render's stage run ends before the next render begins.
        await asyncio.to_thread(small_thumbnail, result.thumb, ctx.path(THUMB_SMALL))
        facts = {
            "width": result.width,
            "height": result.height,
            "duration": round(result.duration, 3),
            "bytes": result.size_bytes,
            "encoder": result.encoder,
            # The others were encoded ahead, while the user reviewed the pictures.
            "segments_encoded": result.segments_encoded,
        }
        write_json(ctx.path(RENDER_JSON), facts)
    return facts
