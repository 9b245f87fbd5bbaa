"""Writing the share pages into the blob store.

A reel's page (``reels/YYYY/MM/DD/<job>/index.html``) is written by the publish stage right
after the reel, so a link to it never points at missing media; like every object of a job it
is immutable. A channel's page (``channels/<destination>/index.html``) is rewritten after each
daily post, so it goes up with a short cache lifetime where the store can set one
(``put_mutable``).
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storage import Database
from storage.channels import ChannelReel, ChannelReels

from ..artifacts import REEL, THUMB
from ..delivery import public_url
from ..files import atomic_write
from ..models import Script
from ..ports import BlobStore
from .pages import ReelCard, channel_page, origin

logger = logging.getLogger(__name__)

PAGE = "index.html"
PAGE_TYPE = "text/html; charset=utf-8"
CHANNEL_MAX_AGE = 60  # seconds: a rewritten channel page is seen within a minute
CHANNEL_REELS = 50


def relative(key: str, page_key: str) -> str:
    """``key`` as a link from the page stored under ``page_key``."""
    return posixpath.relpath(key, posixpath.dirname(page_key) or ".")


async def _link(store: BlobStore, key: str, page_key: str) -> tuple[str, str | None]:
    """(the link written in the page, the public URL or None)."""
    public = public_url(await store.url(key))
    return (public or relative(key, page_key)), public


async def reel_card(
    store: BlobStore,
    prefix: str,
    job_id: str,
    script: Script,
    *,
    page_key: str,
    width: int = 720,
    height: int = 1280,
    title: str | None = None,
) -> ReelCard:
    """The card of the reel under ``prefix`` as seen from the page under ``page_key``."""
    video, public_video = await _link(store, f"{prefix}/{REEL}", page_key)
    poster, public_poster = await _link(store, f"{prefix}/{THUMB}", page_key)
    reel_page_key = f"{prefix}/{PAGE}"
    page: str | None = None
    public_page = public_url(await store.url(reel_page_key))
    if reel_page_key != page_key:
        page = public_page or relative(reel_page_key, page_key)
    origins = frozenset(o for o in (origin(video), origin(poster)) if o is not None)
    return ReelCard(
        job_id=job_id,
        title=title or script.title,
        video=video,
        poster=poster,
        page=page,
        hashtags=tuple(script.hashtags),
        sources=tuple(script.sources),
        description=script.description,
        language=script.language,
        width=width,
        height=height,
        public_video=public_video,
        public_poster=public_poster,
        public_page=public_page,
        origins=origins,
    )


def channel_slug(destination: str) -> str:
    """A destination (``telegram:-100123``) as one path segment (``telegram--100123``)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", destination).strip(".")
    if not slug:
        raise ValueError(f"not a destination: {destination!r}")
    return slug


def channel_key(destination: str) -> str:
    return f"channels/{channel_slug(destination)}/{PAGE}"


async def _channel_card(store: BlobStore, reel: ChannelReel, page_key: str) -> ReelCard | None:
    result: Mapping[str, Any] = reel.result
    prefix = result.get("prefix")
    if not isinstance(prefix, str) or not prefix:
        return None
    try:
        script = Script.model_validate(reel.script or {})
    except ValueError:
        script = Script(title=reel.topic or reel.job_id, language=reel.language, scenes=[])
    return await reel_card(
        store,
        prefix,
        reel.job_id,
        script,
        page_key=page_key,
        width=int(result.get("width") or 720),
        height=int(result.get("height") or 1280),
    )


async def write_channel(
    store: BlobStore,
    db: Database,
    destination: str,
    folder: Path,
    *,
    title: str | None = None,
    limit: int = CHANNEL_REELS,
) -> str:
    """Rewrite the channel page of ``destination`` from its posted reels; its URL."""
    key = channel_key(destination)
    reels = await ChannelReels(db).posted(destination, limit=limit)
    cards: Sequence[ReelCard] = [
        card for reel in reels if (card := await _channel_card(store, reel, key)) is not None
    ]
    language = reels[0].language if reels else "en"
    html = channel_page(title or destination, cards, language=language)
    path = folder / channel_slug(destination) / PAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, html)
    put_mutable = getattr(store, "put_mutable", None)
    if put_mutable is not None:
        await put_mutable(key, path, PAGE_TYPE, max_age=CHANNEL_MAX_AGE)
    else:
        await store.put(key, path, PAGE_TYPE)
    logger.info("channel page of %s: %d reels", destination, len(cards))
    return await store.url(key)
