"""Posting a reel on Telegram in the form the pipeline chose: a link alone above the upload
limit or after an interrupted post; a refusal is NotSent (nothing went out)."""

from __future__ import annotations

import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from PIL import Image

from bot.telegram.delivery import TelegramReels
from locales import translator
from pipeline.app import App
from pipeline.delivery import Post, Published
from pipeline.errors import NotSent
from pipeline.models import Scene, Script
from pipeline.settings import Settings
from pipeline.stages.render import small_thumbnail
from pipeline.studio import Studio
from storage import JobRecord
from tests.fakes.telegram import FakeTelegram

SCRIPT = Script(title="Big <reel>", scenes=[Scene(narration="One.")], hashtags=["#big"])


@pytest.fixture
async def poster(settings: Settings) -> AsyncIterator[tuple[FakeTelegram, TelegramReels]]:
    async with FakeTelegram() as tg, await App.open(settings) as app:
        session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
        bot = Bot(FakeTelegram.TOKEN, session=session)
        try:
            yield tg, TelegramReels(bot, Studio(app), upload_limit=1024)
        finally:
            await session.close()


def _post(work: Path, size: int, url: str | None, *, interrupted: bool = False) -> Post:
    work.mkdir(parents=True)
    (work / "reel.mp4").write_bytes(b"\0" * size)
    Image.new("RGB", (720, 1280), (200, 40, 40)).save(work / "thumb.jpg")
    small_thumbnail(work / "thumb.jpg", work / "thumb-small.jpg")
    job = JobRecord(
        id="j1",
        state="producing",
        language="en",
        style="boxed",
        work_dir=str(work),
        origin="telegram",
        owner_id="telegram:5",
        chat_id="5",
        script=SCRIPT.model_dump(mode="json"),
    )
    result = {"reel_url": url, "duration": 3.0} if url else {"reel_url": "file:///x"}
    return Post(job, Published.of("j1", work, result), interrupted=interrupted)


async def test_above_the_upload_limit_the_link_goes_alone(
    poster: tuple[FakeTelegram, TelegramReels], tmp_path: Path
) -> None:
    tg, reel_poster = poster
    post = _post(tmp_path / "w", 4096, "https://cdn.test/reels/j1/reel.mp4")
    await reel_poster.post(post, translator("en"))
    (message,) = tg.of("sendMessage")
    assert "above the 0 MB a bot may upload" in message.plain
    assert '<a href="https://cdn.test/reels/j1/reel.mp4">Watch and share</a>' in message.text
    assert "<b>Big &lt;reel&gt;</b>" in message.text
    assert not tg.of("sendVideo")


async def test_too_big_and_no_public_link_is_not_sent(
    poster: tuple[FakeTelegram, TelegramReels], tmp_path: Path
) -> None:
    tg, reel_poster = poster
    post = _post(tmp_path / "w", 4096, None)
    with pytest.raises(NotSent):
        await reel_poster.post(post, translator("en"))
    assert not tg.calls


async def test_a_refused_upload_is_not_sent(
    poster: tuple[FakeTelegram, TelegramReels], tmp_path: Path
) -> None:
    tg, reel_poster = poster
    reel_poster.upload_limit = 50 * 1024 * 1024
    post = _post(tmp_path / "w", 10, "https://cdn.test/r.mp4")
    shutil.copyfile(_tiny_mp4(tmp_path), post.published.reel)
    tg.fail("sendVideo", code=400, description="Bad Request: wrong file")
    with pytest.raises(NotSent):
        await reel_poster.post(post, translator("en"))
    await reel_poster.post(post, translator("en"))  # a deliberate retry goes out
    calls = tg.of("sendVideo")
    assert [c.status for c in calls] == [400, 200]
    # The preview is the pipeline's small thumbnail, within Telegram's 320 px.
    preview = calls[-1].files["thumbnail"]
    with Image.open(io.BytesIO(preview.data)) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 320


async def test_an_interrupted_post_is_followed_by_the_link_never_the_video(
    poster: tuple[FakeTelegram, TelegramReels], tmp_path: Path
) -> None:
    tg, reel_poster = poster
    post = _post(tmp_path / "w", 10, "https://cdn.test/r.mp4", interrupted=True)
    await reel_poster.post(post, translator("en"))
    (message,) = tg.of("sendMessage")
    assert "interrupted" in message.plain and 'href="https://cdn.test/r.mp4"' in message.text
    assert not tg.of("sendVideo")


def _tiny_mp4(folder: Path) -> Path:
    import subprocess

    from pipeline.render import resolve_ffmpeg

    out = folder / "tiny.mp4"
    subprocess.run(
        [
            resolve_ffmpeg(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=72x128:d=1",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out
