"""Images stage: candidates per scene, from the user's own media first, then the chain."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path

from ..chain import attempt
from ..errors import ProviderError, ProviderUnavailable
from ..fairshare import ALTERNATE, FIRST, scene_turn, working_for
from ..models import ImageCandidate
from ..ports import ImageSource
from .base import JobContext, read_json, write_json

logger = logging.getLogger(__name__)

IMAGES_JSON = "images.json"
CANDIDATES_PER_SCENE = 3

# Downloads the user's own http(s) media into a file; supplied once the guarded fetcher exists.
MediaFetcher = Callable[[str, Path], Awaitable[Path]]


def load(ctx: JobContext) -> list[list[ImageCandidate]] | None:
    path = ctx.path(IMAGES_JSON)
    if not path.is_file():
        return None
    data = read_json(path)
    candidates = [[ImageCandidate.model_validate(c) for c in scene] for scene in data]
    if any(not c.path.is_file() for scene in candidates for c in scene):
        return None
    return candidates


async def run(
    ctx: JobContext,
    sources: Sequence[ImageSource],
    *,
    count: int = CANDIDATES_PER_SCENE,
    fetch_media: MediaFetcher | None = None,
) -> tuple[list[list[ImageCandidate]], str]:
    """Returns candidates per scene and the providers that served, e.g. "user+cards"."""
    out_dir = ctx.path("images")
    out_dir.mkdir(parents=True, exist_ok=True)
    done = 0
    total = len(ctx.script.scenes)

    async def one(scene: int) -> list[ImageCandidate]:
        nonlocal done
        async with scene_turn():
            found = await _user_media(ctx, scene, out_dir, fetch_media)
            for source in sources:
                if len(found) >= count:
                    break
                wanted = count - len(found)
                try:
                    more, _ = await attempt(
                        source, partial(source.candidates, ctx.script, scene, wanted, out_dir)
                    )
                    found += more
                except ProviderError as exc:
                    logger.warning("images: %s failed for scene %d: %s", source.name, scene, exc)
        if not found:
            raise ProviderUnavailable(f"no image for scene {scene + 1}", provider="chain")
        done += 1
        await ctx.report("images", done / total)
        return found

    await ctx.report("images", 0.0)
    with working_for(ctx.job_id, FIRST):  # the contact sheet waits for these
        per_scene = list(await asyncio.gather(*(one(i) for i in range(total))))
    save(ctx, per_scene)
    providers = sorted({c.provider for scene in per_scene for c in scene})
    return per_scene, "+".join(providers)


async def more(
    ctx: JobContext,
    sources: Sequence[ImageSource],
    scene: int,
    have: list[ImageCandidate],
    count: int = CANDIDATES_PER_SCENE,
) -> list[ImageCandidate]:
    """Scene ``scene``'s candidates topped up to ``count``: ``have`` (already shown) first,
    in their order, then more from the chain. A source that gave some of ``have`` is asked
    again for those plus the rest: it answers the same search the same way (its search and
    downloads are cached), so what it gave before comes back first and is dropped by path."""
    with working_for(ctx.job_id, ALTERNATE):  # after every job's first candidates
        async with scene_turn():
            return await _top_up(ctx, sources, scene, list(have), count)


async def _top_up(
    ctx: JobContext,
    sources: Sequence[ImageSource],
    scene: int,
    found: list[ImageCandidate],
    count: int,
) -> list[ImageCandidate]:
    out_dir = ctx.path("images")
    for source in sources:
        if len(found) >= count:
            break
        known = {candidate.path for candidate in found}
        given = sum(1 for candidate in found if candidate.provider == source.name)
        wanted = count - len(found) + given
        try:
            extra, _ = await attempt(
                source, partial(source.candidates, ctx.script, scene, wanted, out_dir)
            )
        except ProviderError as exc:
            logger.warning("images: %s failed for scene %d: %s", source.name, scene, exc)
            continue
        found += [c for c in extra if c.path not in known][: count - len(found)]
    return found


def save(ctx: JobContext, candidates: list[list[ImageCandidate]]) -> None:
    """Write the candidates where ``load`` finds them (atomically)."""
    write_json(ctx.path(IMAGES_JSON), [[c.model_dump(mode="json") for c in s] for s in candidates])


async def _user_media(
    ctx: JobContext, scene: int, out_dir: Path, fetch_media: MediaFetcher | None
) -> list[ImageCandidate]:
    media = ctx.script.scenes[scene].media
    if not media:
        return []
    if media.startswith(("http://", "https://")):
        if fetch_media is None:
            logger.warning("scene %d: no fetcher configured for %s", scene, media)
            return []
        try:
            path = await fetch_media(media, out_dir / f"{scene}-user")
        except ProviderError as exc:
            logger.warning("scene %d: could not fetch the user's image: %s", scene, exc)
            return []
        return [ImageCandidate(scene=scene, path=path, provider="user", source_url=media)]
    source = Path(media)
    target = out_dir / f"{scene}-user{source.suffix.lower()}"
    await asyncio.to_thread(shutil.copyfile, source, target)
    return [ImageCandidate(scene=scene, path=target, provider="user")]


def chosen(candidates: list[list[ImageCandidate]], selection: Sequence[int] | None) -> list[Path]:
    picks = list(selection or [])
    paths = []
    for scene, options in enumerate(candidates):
        index = picks[scene] if scene < len(picks) else 0
        paths.append(options[index % len(options)].path)
    return paths
