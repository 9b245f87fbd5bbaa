"""The HTML of the share pages: one reel (``reel_page``) or a channel's reels
(``channel_page``). Pure functions of their input; every piece of user text is escaped.

Links in the body are what the page's reader follows: relative where the page lives beside its
media (the local store, served by ``reelfactory share-server``), absolute otherwise. The Open
Graph and Twitter player tags need absolute URLs and are written only when there are public
ones (PROVIDERS.md §10: ``og:video`` is the file itself, ``twitter:card=player``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

from .player import CSS, JS, SCRIPT_HASH, STYLE_HASH

VIDEO_TYPE = "video/mp4"


@dataclass(frozen=True, slots=True)
class ReelCard:
    """One reel as a page shows it. ``video``/``poster``/``page``: links as written in the
    body; ``public_*``: absolute http(s) URLs for the unfurl tags, None when there are none."""

    job_id: str
    title: str
    video: str
    poster: str
    page: str | None = None
    hashtags: Sequence[str] = ()
    sources: Sequence[str] = ()
    description: str = ""
    language: str = "en"
    width: int = 720
    height: int = 1280
    public_video: str | None = None
    public_poster: str | None = None
    public_page: str | None = None
    origins: frozenset[str] = field(default_factory=frozenset)  # where its media come from


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None (a relative link)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def csp(origins: Sequence[str] | frozenset[str]) -> str:
    """Only what the page needs: its own inline script and style (by hash), the posters and
    videos from the store (this origin and ``origins``), nothing else."""
    media = " ".join(["'self'", *sorted(set(origins))])
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {SCRIPT_HASH}",
            f"style-src {STYLE_HASH}",
            f"img-src {media}",
            f"media-src {media}",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _meta(attr: str, name: str, value: str | int | None) -> str:
    if value is None or value == "":
        return ""
    return f'<meta {attr}="{name}" content="{_e(value)}">\n'


def _unfurl(card: ReelCard, title: str, description: str) -> str:
    """Open Graph and Twitter tags for a link preview with the video."""
    tags = _meta("property", "og:title", title) + _meta("property", "og:description", description)
    tags += _meta("property", "og:url", card.public_page)
    tags += _meta("property", "og:image", card.public_poster)
    if card.public_video is None:
        return tags
    tags += _meta("property", "og:type", "video.other")
    tags += _meta("property", "og:video", card.public_video)
    if card.public_video.startswith("https://"):
        tags += _meta("property", "og:video:secure_url", card.public_video)
    tags += _meta("property", "og:video:type", VIDEO_TYPE)
    tags += _meta("property", "og:video:width", card.width)
    tags += _meta("property", "og:video:height", card.height)
    tags += _meta("name", "twitter:card", "player")
    tags += _meta("name", "twitter:title", title)
    tags += _meta("name", "twitter:description", description)
    tags += _meta("name", "twitter:image", card.public_poster)
    tags += _meta("name", "twitter:player", card.public_page)
    tags += _meta("name", "twitter:player:width", card.width)
    tags += _meta("name", "twitter:player:height", card.height)
    tags += _meta("name", "twitter:player:stream", card.public_video)
    tags += _meta("name", "twitter:player:stream:content_type", VIDEO_TYPE)
    return tags


def _sources(sources: Sequence[str]) -> str:
    items = []
    for source in sources:
        parts = urlsplit(source)
        if parts.scheme in ("http", "https") and parts.netloc:
            label = parts.netloc.removeprefix("www.")
            items.append(f'<li><a href="{_e(source)}" rel="nofollow noopener">{_e(label)}</a></li>')
        elif source.strip():
            items.append(f"<li>{_e(source)}</li>")
    return f'<ul class="sources">{"".join(items)}</ul>' if items else ""


def _section(card: ReelCard, index: int, *, heading: str, eager: bool) -> str:
    title = _e(card.title)
    if card.page is not None:
        title = f'<a href="{_e(card.page)}">{title}</a>'
    tags = " ".join(card.hashtags)
    src = (
        f'src="{_e(card.video)}" preload="auto" autoplay'
        if eager
        else (f'data-src="{_e(card.video)}" preload="none"')
    )
    return (
        f'<section class="reel muted paused" id="r{index}" data-job="{_e(card.job_id)}">\n'
        f'<video {src} poster="{_e(card.poster)}" width="{card.width}" '
        f'height="{card.height}" muted playsinline loop></video>\n'
        f'<div class="info"><{heading}>{title}</{heading}>'
        + (f'<p class="tags">{_e(tags)}</p>' if tags else "")
        + _sources(card.sources)
        + "</div>\n"
        '<button type="button" class="sound" aria-label="Sound" aria-pressed="false"></button>\n'
        "</section>\n"
    )


def _document(language: str, title: str, head: str, body: str, origins: frozenset[str]) -> str:
    return (
        "<!doctype html>\n"
        f'<html lang="{_e(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp(origins))}">\n'
        '<meta name="referrer" content="strict-origin-when-cross-origin">\n'
        f"<title>{_e(title)}</title>\n{head}<style>{CSS}</style>\n</head>\n<body>\n"
        f"<main>\n{body}</main>\n<script>{JS}</script>\n</body>\n</html>\n"
    )


def reel_page(card: ReelCard) -> str:
    """The page of one reel: it plays inline, and its link unfurls with the video."""
    description = card.description or " ".join(card.hashtags)
    head = _meta("name", "description", description) + _unfurl(card, card.title, description)
    body = _section(card, 0, heading="h1", eager=True)
    return _document(card.language, card.title, head, body, card.origins)


def channel_page(title: str, cards: Sequence[ReelCard], *, language: str = "en") -> str:
    """A channel's reels, newest first, one per screen; the first loads at once, each next
    one as the one before it comes into view."""
    origins = frozenset().union(*(card.origins for card in cards)) if cards else frozenset()
    head = ""
    if cards:
        latest = cards[0]
        head = _meta("property", "og:title", title) + _meta(
            "property", "og:image", latest.public_poster
        )
    body = "".join(
        _section(card, index, heading="h2", eager=index == 0) for index, card in enumerate(cards)
    )
    return _document(language, title, head, body, origins)
