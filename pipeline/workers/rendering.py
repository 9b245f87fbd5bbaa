"""One render, wherever it runs (this process or a ``reelfactory worker``): the encoder chosen
once, libx264 when a hardware encoder fails its real render, then the chat-sized thumbnail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

from ..artifacts import THUMB_SMALL
from ..errors import RenderError
from ..files import atomic_write
from ..models import RenderSpec
from ..render import RenderResult, encoders, render_reel, resolve_ffmpeg
from ..settings import Settings
from ..stages.render_spec import codec_for, segments_at_once
from ..stages.subtitles import FONTS_DIR

logger = logging.getLogger(__name__)

SMALL_SIDE = 320  # Telegram's limit for a video's preview; fine everywhere else


def small_thumbnail(thumb: Path, out: Path, side: int = SMALL_SIDE) -> None:
    """A JPEG no larger than ``side`` pixels either way (blocking: run it in a thread)."""
    with Image.open(thumb) as image:
        image.thumbnail((side, side))
        small = image.convert("RGB")

    atomic_write(out, lambda f: small.save(f, "JPEG", quality=85))


def facts_of(result: RenderResult) -> dict[str, Any]:
    """What render.json keeps of a render."""
    return {
        "width": result.width,
        "height": result.height,
        "duration": round(result.duration, 3),
        "bytes": result.size_bytes,
        "encoder": result.encoder,
        # The others were encoded ahead, while the user reviewed the pictures.
        "segments_encoded": result.segments_encoded,
    }


async def render_spec(
    spec: RenderSpec,
    settings: Settings,
    *,
    job_id: str,
    on_progress: Callable[[float], Awaitable[None]] | None = None,
) -> RenderResult:
    """Render ``spec`` to ``spec.out_path``, ``thumb.jpg`` and ``thumb-small.jpg`` beside it."""
    binary = resolve_ffmpeg(settings.ffmpeg_binary)
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
            parallel=segments_at_once(settings),
            threads=codec.threads,
        )

    try:
        result = await render(codec.encoder)
    except RenderError as exc:
        if codec.encoder == encoders.SOFTWARE:
            raise
        # Passed its test encode, failed the real one: libx264 renders, and the next
        # render probes again.
        logger.warning("job %s: %s failed, rendering with libx264: %s", job_id, codec.encoder, exc)
        encoders.forget(codec.encoder)
        result = await render(encoders.SOFTWARE)
    await asyncio.to_thread(small_thumbnail, result.thumb, result.thumb.with_name(THUMB_SMALL))
    return result
