"""The share pages' HTML: unfurl tags, escaped user text, the CSP, and relative links for a
local store (pure functions: no server, no browser)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.adapters.local_fs import LocalBlobStore
from pipeline.adapters.r2 import R2BlobStore
from pipeline.share import PAGE, channel_key, channel_page, reel_card, reel_page
from pipeline.share.player import CSS, JS, digest
from pipeline.share.writer import channel_slug, relative
from tests.pipeline.share.helpers import HOSTILE_TITLE, hostile_script, parse

PREFIX = "reels/2025/03/07/job-42"


def cdn_store() -> R2BlobStore:
    # url() with a public base needs no connection.
    return R2BlobStore(
        bucket="reels",
        access_key_id="id",
        secret_access_key="secret",
        endpoint_url="http://127.0.0.1:9",
        public_base_url="https://cdn.reels.test",
    )


def csp_of(html: str) -> dict[str, list[str]]:
    policy = parse(html).meta()["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part
    }


async def test_reel_page_unfurls_with_the_video_and_escapes_user_text() -> None:
    card = await reel_card(
        cdn_store(), PREFIX, "job-42", hostile_script(), page_key=f"{PREFIX}/{PAGE}"
    )
    html = reel_page(card)
    page = parse(html)
    meta = page.meta()
    base = f"https://cdn.reels.test/{PREFIX}"
    assert meta["og:video"] == meta["og:video:secure_url"] == f"{base}/reel.mp4"
    assert meta["og:video:type"] == "video/mp4"
    assert (meta["og:video:width"], meta["og:video:height"]) == ("720", "1280")
    assert meta["og:image"] == meta["twitter:image"] == f"{base}/thumb.jpg"
    assert meta["og:url"] == meta["twitter:player"] == f"{base}/index.html"
    assert meta["twitter:card"] == "player"
    assert meta["twitter:player:stream"] == f"{base}/reel.mp4"
    assert meta["og:title"] == HOSTILE_TITLE  # the parser unescapes: the text survived intact
    assert "".join(page.text["title"]) == HOSTILE_TITLE
    assert "".join(page.text["h1"]) == HOSTILE_TITLE

    # The hostile text is text: one script element (ours), no injected elements or attributes.
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert page.named("img") == []
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;owned&quot;)" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    hrefs = [attrs["href"] for attrs in page.named("a")]
    assert hrefs == ['https://example.org/a?b=1&c="2"']  # javascript: is no link
    assert "&lt;b&gt;a book&lt;/b&gt;" in html

    (video,) = page.named("video")
    assert video["src"] == f"{base}/reel.mp4" and video["poster"] == f"{base}/thumb.jpg"
    assert {"muted", "playsinline", "autoplay", "loop"} <= set(video)
    (button,) = page.named("button")
    assert button["type"] == "button"


async def test_the_csp_allows_only_the_page_s_own_script_style_and_the_store() -> None:
    card = await reel_card(cdn_store(), PREFIX, "job-42", hostile_script(), page_key="x")
    html = reel_page(card)
    policy = csp_of(html)
    script = re.search(r"<script>(.*)</script>", html, re.S)
    style = re.search(r"<style>(.*)</style>", html, re.S)
    assert script is not None and style is not None
    assert script.group(1) == JS and style.group(1) == CSS
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == [digest(script.group(1))]
    assert policy["style-src"] == [digest(style.group(1))]
    assert policy["media-src"] == policy["img-src"] == ["'self'", "https://cdn.reels.test"]
    assert policy["base-uri"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert "'unsafe-inline'" not in html and "'unsafe-eval'" not in html
    # The policy comes before anything it governs.
    assert html.index("Content-Security-Policy") < html.index("<style>")
    assert len(html.encode()) < 12_000  # a few KB, with all the tags


async def test_a_local_store_page_links_relatively_and_has_no_unfurl_video(
    tmp_path: Path,
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    card = await reel_card(store, PREFIX, "job-42", hostile_script(), page_key=f"{PREFIX}/{PAGE}")
    page = parse(reel_page(card))
    (video,) = page.named("video")
    assert video["src"] == "reel.mp4" and video["poster"] == "thumb.jpg"
    meta = page.meta()
    assert "og:video" not in meta and "twitter:card" not in meta
    assert meta["og:title"] == HOSTILE_TITLE
    assert csp_of(reel_page(card))["media-src"] == ["'self'"]


async def test_channel_page_lists_reels_one_per_screen_loading_the_rest_later() -> None:
    store = cdn_store()
    key = channel_key("telegram:-100123")
    assert key == "channels/telegram--100123/index.html"
    cards = [
        await reel_card(
            store, f"reels/2025/03/0{day}/job-{day}", f"job-{day}", script, page_key=key
        )
        for day, script in ((7, hostile_script()), (6, hostile_script("Second <i>reel</i>")))
    ]
    html = channel_page("Daily <reels>", cards)
    page = parse(html)
    assert "".join(page.text["title"]) == "Daily <reels>"
    sections = page.named("section")
    assert [s["id"] for s in sections] == ["r0", "r1"]
    assert [s["data-job"] for s in sections] == ["job-7", "job-6"]
    first, second = page.named("video")
    assert first["src"] == "https://cdn.reels.test/reels/2025/03/07/job-7/reel.mp4"
    assert first["preload"] == "auto" and "data-src" not in first
    assert "src" not in second and second["preload"] == "none"
    assert second["data-src"] == "https://cdn.reels.test/reels/2025/03/06/job-6/reel.mp4"
    links = [a["href"] for a in page.named("a") if "index.html" in str(a["href"])]
    assert links == [
        "https://cdn.reels.test/reels/2025/03/07/job-7/index.html",
        "https://cdn.reels.test/reels/2025/03/06/job-6/index.html",
    ]
    assert page.named("i") == []  # no element made from the title
    assert "Second &lt;i&gt;reel&lt;/i&gt;" in html
    assert "scroll-snap-type:y mandatory" in html and "IntersectionObserver" in html


def test_keys_and_links() -> None:
    assert relative("reels/2025/03/07/j/reel.mp4", "channels/x/index.html") == (
        "../../reels/2025/03/07/j/reel.mp4"
    )
    assert relative("reels/a/reel.mp4", "reels/a/index.html") == "reel.mp4"
    assert channel_slug("discord:123") == "discord-123"
    assert channel_slug("../../etc") == "-..-etc"  # one segment: no way out of channels/
