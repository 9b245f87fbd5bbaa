"""Publish stage: every asset of a job goes to the blob store; the reel goes last."""

from __future__ import annotations

import asyncio
import mimetypes
from datetime import datetime
from pathlib import Path

from ..models import ImageCandidate
from ..ports import BlobStore
from .base import JobContext

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".json": "application/json",
    ".ass": "text/x-ssa; charset=utf-8",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
}


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def job_prefix(job_id: str, created: datetime) -> str:
    return f"reels/{created:%Y/%m/%d}/{job_id}"


def assets(ctx: JobContext, images: list[list[ImageCandidate]]) -> list[tuple[str, Path]]:
    """(relative key, file) for every asset; the reel is last so it is public only when the
    rest already is."""
    items: list[tuple[str, Path]] = [
        ("script.json", ctx.path("script.json")),
        ("voice.m4a", ctx.path("voice.m4a")),
        ("subs.ass", ctx.path("subs.ass")),
        ("thumb.jpg", ctx.path("thumb.jpg")),
    ]
    for scene, options in enumerate(images):
        for index, candidate in enumerate(options):
            suffix = candidate.path.suffix.lower() or ".jpg"
            items.append((f"images/{scene}-{index}{suffix}", candidate.path))
    items.append(("reel.mp4", ctx.path("reel.mp4")))
    return [(key, path) for key, path in items if path.is_file()]


async def run(
    ctx: JobContext,
    store: BlobStore,
    created: datetime,
    images: list[list[ImageCandidate]],
    *,
    concurrency: int = 4,
) -> dict[str, str]:
    prefix = job_prefix(ctx.job_id, created)
    items = assets(ctx, images)
    *rest, (reel_key, reel_path) = items
    limit = asyncio.Semaphore(concurrency)
    done = 0

    async def put(key: str, path: Path) -> None:
        nonlocal done
        async with limit:
            await store.put(f"{prefix}/{key}", path, content_type(path))
        done += 1
        await ctx.report("upload", done / len(items))

    await ctx.report("upload", 0.0)
    async with asyncio.TaskGroup() as group:
        for key, path in rest:
            group.create_task(put(key, path))
    await put(reel_key, reel_path)
    return {
        "prefix": prefix,
        "reel_url": await store.url(f"{prefix}/reel.mp4"),
        "thumb_url": await store.url(f"{prefix}/thumb.jpg"),
    }
