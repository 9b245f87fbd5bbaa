"""Render stage: timeline from the word timings, scene segments and the sound track joined,
rendered by the configured render queue (this process, or workers on Redis); the music
stage's bed (if any) mixed under the voice. Every path that renders (bots, daily run, CLI)
comes through here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..artifacts import REEL, RENDER_JSON, THUMB, THUMB_SMALL
from ..models import Stage, Voiceover
from ..queue import QueueStatus, RenderQueue
from ..workers.rendering import SMALL_SIDE, facts_of, small_thumbnail
from .base import JobContext, read_json, write_json
from .render_spec import spec_for

__all__ = ["SMALL_SIDE", "load", "run", "small_thumbnail"]


def load(ctx: JobContext) -> dict[str, Any] | None:
    """The facts of a finished render (width, height, duration, bytes), when its files are
    all there."""
    files = (REEL, THUMB, THUMB_SMALL, RENDER_JSON)
    if not all(ctx.path(name).is_file() for name in files):
        return None
    facts: dict[str, Any] = read_json(ctx.path(RENDER_JSON))
    return facts


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

    async def on_queue(status: QueueStatus) -> None:
        await ctx.report(Stage.QUEUED, position=status.position, eta=status.eta)

    async def on_progress(fraction: float) -> None:
        await ctx.report(Stage.RENDER, fraction)

    result = await queue.render(
        ctx.job_id, spec, ctx.settings, on_queue=on_queue, on_progress=on_progress
    )
    facts = facts_of(result)
    write_json(ctx.path(RENDER_JSON), facts)
    return facts
