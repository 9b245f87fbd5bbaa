"""Publish stage: every asset of a job is confirmed in the blob store; the reel goes last, its share
page right after it.

Most assets are already on their way when this stage starts (see ``pipeline.uploads``): it
hands over whatever is missing, waits for all of them, and only then sends the reel, so the
reel's link is never public while the rest of the job is not. The share page
(``pipeline.share``) links the reel and its thumbnail, so it goes up once they are in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..artifacts import REEL, SCRIPT, SUBTITLES, THUMB, THUMB_SMALL
from ..files import atomic_write
from ..models import ImageCandidate
from ..share import PAGE, reel_card, reel_page
from ..uploads import CONTENT_TYPES, Uploader, content_type
from . import music, render, voice
from .base import JobContext

__all__ = ["CONTENT_TYPES", "REEL", "assets", "content_type", "finish", "job_prefix", "settle"]


def job_prefix(job_id: str, created: datetime) -> str:
    return f"reels/{created:%Y/%m/%d}/{job_id}"


def image_name(scene: int, index: int, path: Path) -> str:
    return f"images/{scene}-{index}{path.suffix.lower() or '.jpg'}"


def assets(ctx: JobContext, images: list[list[ImageCandidate]]) -> list[tuple[str, Path]]:
    """(name under the job's prefix, file) for every asset the job has; the reel is last."""
    items: list[tuple[str, Path]] = [
        (SCRIPT, ctx.path(SCRIPT)),
        (voice.AUDIO, voice.audio_path(ctx)),
        (SUBTITLES, ctx.path(SUBTITLES)),
        (THUMB, ctx.path(THUMB)),
        (THUMB_SMALL, ctx.path(THUMB_SMALL)),
    ]
    # The music and effect sounds the reel was mixed with.
    items += music.assets(music.load(ctx))
    for scene, options in enumerate(images):
        for index, candidate in enumerate(options):
            items.append((image_name(scene, index, candidate.path), candidate.path))
    items.append((REEL, ctx.path(REEL)))
    return items


async def settle(ctx: JobContext, uploader: Uploader, images: list[list[ImageCandidate]]) -> None:
    """Every asset but the reel confirmed in the store; stale objects of earlier runs gone."""
    *rest, _ = assets(ctx, images)
    await uploader.prune([name for name, _ in assets(ctx, images)] + [PAGE])
    for name, path in rest:
        uploader.submit(name, path)

    async def progress(done: int, total: int) -> None:
        await ctx.report("upload", done / (total + 1))

    await uploader.settle([name for name, _ in rest], progress)


async def finish(ctx: JobContext, uploader: Uploader) -> dict[str, str]:
    """Send the reel, then its share page, then answer with the job's public links."""
    uploader.submit(REEL, ctx.path(REEL))
    await uploader.settle([REEL])
    store = uploader.store
    facts = render.load(ctx) or {}
    card = await reel_card(
        store,
        uploader.prefix,
        ctx.job_id,
        ctx.script,
        page_key=uploader.key(PAGE),
        width=int(facts.get("width") or 720),
        height=int(facts.get("height") or 1280),
    )
    atomic_write(ctx.path(PAGE), reel_page(card))
    uploader.submit(PAGE, ctx.path(PAGE))
    await uploader.settle([PAGE])
    await ctx.report("upload", 1.0)
    return {
        "prefix": uploader.prefix,
        "reel_url": await store.url(uploader.key(REEL)),
        "thumb_url": await store.url(uploader.key(THUMB)),
        "page_url": await store.url(uploader.key(PAGE)),
    }
