"""Share pages in the store: the publish stage puts the page right after the reel (HTML,
immutable), the chat link points at it, and channel pages are rewritten (short cache)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from aiohttp.test_utils import TestClient, TestServer

from pipeline.adapters.local_fs import LocalBlobStore
from pipeline.app import App
from pipeline.cli.share_server import make_app, pages
from pipeline.delivery import Published
from pipeline.providers import build_offline
from pipeline.settings import Settings
from pipeline.share import channel_key, write_channel
from tests.fakes.s3 import S3Endpoint

from .helpers import HOSTILE_TITLE, hostile_script, parse, post_daily, publish_job

DEST = "telegram:-100123"


async def test_the_page_goes_up_after_the_reel_as_immutable_html_and_the_link_is_it(
    cdn_app: App, s3_server: S3Endpoint, clips: list[Path]
) -> None:
    store: Any = cdn_app.runner.store
    order: list[str] = []
    real_put = store.put

    async def put(key: str, path: Path, content_type: str) -> None:
        await real_put(key, path, content_type)
        order.append(key)

    store.put = put
    job_id, result = await publish_job(cdn_app, hostile_script(), clips[0])
    prefix = result["prefix"]
    base = f"{s3_server.endpoint_url}/{s3_server.bucket}/{prefix}"
    assert order[-2:] == [f"{prefix}/reel.mp4", f"{prefix}/index.html"]
    assert result["page_url"] == f"{base}/index.html"
    assert result["reel_url"] == f"{base}/reel.mp4"

    async with s3_server.client() as s3:
        head = await s3.head_object(Bucket=s3_server.bucket, Key=f"{prefix}/index.html")
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"

    async with httpx.AsyncClient() as client:
        answer = await client.get(result["page_url"])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    meta = parse(answer.text).meta()
    assert meta["og:video"] == result["reel_url"] and meta["og:image"] == result["thumb_url"]
    assert meta["og:title"] == HOSTILE_TITLE

    job = await cdn_app.jobs.get(job_id)
    assert job is not None
    published = Published.of(job_id, Path(job.work_dir), result)
    assert published.url == published.page_url == result["page_url"]  # what the chat links
    assert published.video_url == result["reel_url"]


async def test_without_a_page_the_link_stays_the_video(tmp_path: Path) -> None:
    published = Published.of("j", tmp_path, {"reel_url": "https://cdn.test/r/reel.mp4"})
    assert published.url == published.video_url == "https://cdn.test/r/reel.mp4"
    assert published.page_url is None
    local = Published.of("j", tmp_path, {"reel_url": "file:///r.mp4", "page_url": "file:///i"})
    assert local.url is None and local.page_url is None


async def test_the_channel_page_is_rewritten_with_each_post_newest_first(
    cdn_app: App, s3_server: S3Endpoint, clips: list[Path], tmp_path: Path
) -> None:
    first, _ = await publish_job(cdn_app, hostile_script("First"), clips[0])
    second, _ = await publish_job(cdn_app, hostile_script("Second"), clips[1])
    other, _ = await publish_job(cdn_app, hostile_script("Elsewhere"), clips[2])
    store = cdn_app.runner.store
    await post_daily(cdn_app, first, DEST, date(2025, 3, 6), at=datetime(2025, 3, 6, tzinfo=UTC))
    await post_daily(cdn_app, other, "discord:9", date(2025, 3, 6))
    url = await write_channel(store, cdn_app.db, DEST, tmp_path / "pages")
    assert url == f"{s3_server.endpoint_url}/{s3_server.bucket}/{channel_key(DEST)}"

    async with httpx.AsyncClient() as client:
        page = parse((await client.get(url)).text)
        assert [s["data-job"] for s in page.named("section")] == [first]
        await post_daily(
            cdn_app, second, DEST, date(2025, 3, 7), at=datetime(2025, 3, 7, tzinfo=UTC)
        )
        await write_channel(store, cdn_app.db, DEST, tmp_path / "pages")
        answer = await client.get(url)
    page = parse(answer.text)
    assert [s["data-job"] for s in page.named("section")] == [second, first]
    assert "".join(page.text["a"][:1]) == "Second"
    async with s3_server.client() as s3:
        head = await s3.head_object(Bucket=s3_server.bucket, Key=channel_key(DEST))
    assert head["ContentType"] == "text/html; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=60"  # rewritten: not immutable


async def test_the_local_store_writes_the_same_pages_and_share_server_serves_them(
    settings: Settings, clips: list[Path]
) -> None:
    providers = build_offline(settings)
    assert isinstance(providers.store, LocalBlobStore)
    async with await App.open(settings, providers) as app:
        job_id, result = await publish_job(app, hostile_script(), clips[0])
        await post_daily(app, job_id, DEST, date(2025, 3, 6))
        await write_channel(app.runner.store, app.db, DEST, settings.data_dir / "pages")
    root = settings.blobs_dir
    assert result["page_url"].startswith("file://")  # no public link: the chat gets the file
    assert pages(root) == [
        "channels/telegram--100123/",
        f"{result['prefix']}/",
    ]
    async with TestClient(TestServer(make_app(root))) as client:
        answer = await client.get(f"/{result['prefix']}/")
        assert answer.status == 200 and answer.content_type == "text/html"
        (video,) = parse(await answer.text()).named("video")
        assert video["src"] == "reel.mp4"
        media = await client.get(f"/{result['prefix']}/reel.mp4", headers={"Range": "bytes=0-99"})
        assert media.status == 206 and media.content_type == "video/mp4"
        channel = await client.get("/channels/telegram--100123/")
        (video,) = parse(await channel.text()).named("video")
        assert video["src"] == f"../../{result['prefix']}/reel.mp4"
        assert (await client.get("/channels/telegram--100123")).status == 200  # redirected
        assert (await client.get("/../../etc/passwd")).status == 404
        assert (await client.get("/nothing/here/")).status == 404
