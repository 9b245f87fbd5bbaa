"""Shared by the share-page tests: a real short 720x1280 clip, a job published with it
through the publish stage into any store, and a daily post of it to a channel."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pipeline.app import App
from pipeline.artifacts import REEL, RENDER_JSON, THUMB, THUMB_SMALL
from pipeline.catalog import DEFAULT_STYLE, STYLES
from pipeline.files import write_json
from pipeline.models import Scene, Script, VoiceChoice
from pipeline.render import resolve_ffmpeg, run_ffmpeg
from pipeline.stages import publish
from pipeline.stages.base import JobContext
from pipeline.uploads import Uploader
from storage import DailyKey, DailyPostRepository, UploadRepository
from storage.jobs_queries import JobQueries

HOSTILE_TITLE = 'Cats </title><script>alert("owned")</script> & "dogs"'


def hostile_script(title: str = HOSTILE_TITLE) -> Script:
    return Script(
        title=title,
        language="en",
        scenes=[Scene(narration="Cats sleep a lot.")],
        hashtags=["#cats", '#"><img src=x onerror=alert(1)>'],
        sources=[
            'https://example.org/a?b=1&c="2"',
            "javascript:alert(1)",
            "<b>a book</b>",
        ],
        description="Why cats <sleep> so much",
    )


async def make_clip(folder: Path, colour: str = "teal", seconds: float = 3.0) -> Path:
    """reel.mp4 (H.264/AAC, 720x1280), thumb.jpg, thumb-small.jpg and render.json."""
    folder.mkdir(parents=True, exist_ok=True)
    ffmpeg = resolve_ffmpeg()
    await run_ffmpeg(
        ["-f", "lavfi", "-i", f"color=c={colour}:s=720x1280:r=15:d={seconds}"]
        + ["-f", "lavfi", "-i", f"sine=f=440:r=44100:d={seconds}"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
        + ["-c:a", "aac", "-shortest", "-movflags", "+faststart", "-y", str(folder / REEL)],
        binary=ffmpeg,
        timeout=60,
        stage="fixture",
    )
    for name, size in ((THUMB, "360x640"), (THUMB_SMALL, "180x320")):
        await run_ffmpeg(
            ["-f", "lavfi", "-i", f"color=c={colour}:s={size}:d=1", "-frames:v", "1"]
            + ["-y", str(folder / name)],
            binary=ffmpeg,
            timeout=30,
            stage="fixture",
        )
    write_json(
        folder / RENDER_JSON,
        {
            "width": 720,
            "height": 1280,
            "duration": seconds,
            "bytes": (folder / REEL).stat().st_size,
        },
    )
    return folder


async def publish_job(
    app: App, script: Script, clip: Path, *, created: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """A job whose render is ``clip``, published through the publish stage's ``finish``;
    (job id, its stored result)."""
    job = await app.new_job(script, style=DEFAULT_STYLE)
    work = Path(job.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    for name in (REEL, THUMB, THUMB_SMALL, RENDER_JSON):
        shutil.copyfile(clip / name, work / name)
    ctx = JobContext(job.id, script, work, VoiceChoice(), STYLES[DEFAULT_STYLE], app.settings)
    async with Uploader(
        job_id=job.id,
        prefix=publish.job_prefix(job.id, created or job.created_at),
        store=app.runner.store,
        ledger=UploadRepository(app.db),
        queries=JobQueries(app.db),
    ) as uploader:
        for name in (THUMB, THUMB_SMALL):  # what settle sends before the reel
            uploader.submit(name, work / name)
        await uploader.settle()
        result: dict[str, Any] = {**await publish.finish(ctx, uploader), "width": 720}
    result["height"] = 1280
    await app.jobs.update(job.id, result=result)
    return job.id, result


async def post_daily(
    app: App, job_id: str, destination: str, day: date, slot: int = 0, *, at: datetime | None = None
) -> None:
    posts = DailyPostRepository(app.db)
    key = DailyKey(day, destination, slot)
    await posts.claim(key, language="en")
    await posts.attach_job(key, job_id, topic="a topic")
    await posts.mark_made(key)
    await posts.mark_posted(key, at=at or datetime.now(UTC))


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each element by tag name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "link", "br", "img", "source"}:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._open:
            self.text.setdefault(self._open[-1], []).append(data)

    def meta(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for tag, attrs in self.tags:
            name = attrs.get("property") or attrs.get("name") or attrs.get("http-equiv")
            if tag == "meta" and name and attrs.get("content") is not None:
                found[name] = str(attrs["content"])
        return found

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser
