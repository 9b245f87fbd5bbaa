"""The studio's YouTube rules against the mock Google: connecting through the device flow,
tokens sealed on disk, one post per (job, channel) even with two presses at once, privacy,
disconnecting, and which errors reach the admins."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from pipeline.adapters.youtube import YouTubeAuth, YouTubeQuota
from pipeline.alerts import Alerter
from pipeline.app import App
from pipeline.errors import NotOwner, ReelError, StaleJob
from pipeline.models import JobState
from pipeline.settings import Settings
from pipeline.studio import Studio
from pipeline.youtube import Linked, NotConfigured, NotConnected, NoTokenKey
from storage import AlertRepository, JobRecord
from tests.fakes.youtube import FakeYouTube

ALICE, BOB = "telegram:101", "telegram:202"
SCRIPT = {
    "title": "Why <octopuses> have three hearts",
    "language": "en",
    "scenes": [{"narration": "Three hearts.", "visual_query": "octopus", "image_prompt": "o"}],
    "hashtags": ["#octopus", "#facts"],
    "description": "Octopus hearts.",
    "sources": ["https://en.wikipedia.org/wiki/Octopus"],
}


@dataclass
class Notes:
    """An admin notifier that keeps what it was sent."""

    sent: list[str] = field(default_factory=list)

    async def send(self, admin: str, text: str) -> None:
        self.sent.append(text)


@dataclass
class Bench:
    app: App
    studio: Studio
    fake: FakeYouTube
    notes: Notes
    outcomes: list[Linked | ReelError] = field(default_factory=list)

    async def linked(self, outcome: Linked | ReelError) -> None:
        self.outcomes.append(outcome)

    async def connect(self, owner: str = ALICE) -> Linked | ReelError:
        self.fake.approve_after = 0
        before = len(self.outcomes)
        await self.studio.connect_youtube(owner, self.linked)
        for _ in range(200):
            if len(self.outcomes) > before:
                return self.outcomes[-1]
            await asyncio.sleep(0.01)
        raise AssertionError("never linked")

    async def reel(self, owner: str = ALICE, size: int = 300_000) -> JobRecord:
        job_id = self.app.jobs.new_id()
        work = Path(self.app.work_dir(job_id))
        work.mkdir(parents=True, exist_ok=True)
        (work / "reel.mp4").write_bytes(os.urandom(size))
        record = JobRecord(
            id=job_id,
            state=JobState.DELIVERED,
            language="en",
            style="bold-yellow",
            work_dir=str(work),
            origin="telegram",
            owner_id=owner,
            chat_id="101",
            script=SCRIPT,
        )
        return await self.app.jobs.create(record)


def _configured(settings: Settings, fake: FakeYouTube, **more: object) -> Settings:
    return settings.model_copy(
        update={
            "youtube_client_id": "demo-client",
            "youtube_client_secret": SecretStr("demo-secret"),
            "youtube_token_key": SecretStr(Fernet.generate_key().decode()),
            "youtube_oauth_base": fake.base_url,
            "youtube_api_base": fake.base_url,
            "youtube_chunk_size": 256 * 1024,
            "admins": ["telegram:909"],
            **more,
        }
    )


@pytest.fixture
async def bench(settings: Settings) -> AsyncIterator[Bench]:
    async with FakeYouTube(interval=0) as fake:
        app = await App.open(_configured(settings, fake))
        studio = Studio(app)
        notes = Notes()
        studio.alerter = Alerter.from_settings(app.settings, AlertRepository(app.db), notes)
        try:
            yield Bench(app, studio, fake, notes)
        finally:
            await app.close()


async def test_connect_links_the_channel_and_seals_the_token(bench: Bench) -> None:
    device = await bench.studio.connect_youtube(ALICE, bench.linked)
    assert device.user_code.startswith("ABCD-")
    # A second /connect while the code is pending shows the same code.
    again = await bench.studio.connect_youtube(ALICE, bench.linked)
    assert again.user_code == device.user_code
    bench.fake.approve(device.user_code)
    for _ in range(200):
        if bench.outcomes:
            break
        await asyncio.sleep(0.01)
    assert bench.outcomes == [Linked(ALICE, "Demo channel")]
    assert await bench.studio.youtube_privacy(ALICE) == "private"

    [refresh] = bench.fake.refresh_tokens
    raw = Path(bench.app.settings.database).read_bytes()
    wal = Path(f"{bench.app.settings.database}-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert refresh.encode() not in raw  # neither in the database nor its write-ahead log
    with sqlite3.connect(bench.app.settings.database) as conn:
        [(token,)] = conn.execute("SELECT token FROM connections").fetchall()
    assert bytes(token).startswith(b"gAAAA")  # a Fernet token


async def test_a_denied_code_is_told_and_nothing_is_stored(bench: Bench) -> None:
    device = await bench.studio.connect_youtube(ALICE, bench.linked)
    bench.fake.deny(device.user_code)
    for _ in range(200):
        if bench.outcomes:
            break
        await asyncio.sleep(0.01)
    [outcome] = bench.outcomes
    assert isinstance(outcome, YouTubeAuth) and outcome.code == "youtube.denied"
    with pytest.raises(NotConnected):
        await bench.studio.youtube_privacy(ALICE)
    assert bench.notes.sent == []  # the user's choice: no admin alert


async def test_two_presses_post_once_and_return_the_same_link(bench: Bench) -> None:
    await bench.connect()
    job = await bench.reel()
    assert await bench.studio.youtube_press(ALICE, job.id) is None
    # Two presses at once (either may win the claim: both chose the same privacy).
    first, second = await asyncio.gather(
        bench.studio.post_youtube(ALICE, job.id, disclosure="Made with AI.", privacy="unlisted"),
        bench.studio.post_youtube(ALICE, job.id, disclosure="Made with AI.", privacy="unlisted"),
    )
    assert first.url == second.url and first.url.startswith("https://youtube.com/shorts/")
    assert [first.fresh, second.fresh].count(True) == 1
    assert len(bench.fake.videos) == 1
    [(video, data)] = bench.fake.videos.values()
    assert data == (Path(job.work_dir) / "reel.mp4").read_bytes()
    assert video["status"] == {
        "uploadStatus": "uploaded",
        "license": "youtube",
        "privacyStatus": "unlisted",
        "selfDeclaredMadeForKids": False,
        "containsSyntheticMedia": True,
    }
    snippet = video["snippet"]
    assert snippet["title"] == "Why octopuses have three hearts"  # no < >
    assert snippet["tags"] == ["octopus", "facts"]
    assert snippet["categoryId"] == "27"
    description = snippet["description"]
    assert "#octopus #facts #Shorts" in description
    assert "https://en.wikipedia.org/wiki/Octopus" in description
    assert description.endswith("Made with AI.")
    # The press after it answers with the link, without asking for a privacy again.
    pressed = await bench.studio.youtube_press(ALICE, job.id)
    assert pressed is not None and pressed.url == first.url and not pressed.fresh
    assert await bench.studio.youtube_privacy(ALICE) == "unlisted"  # remembered


async def test_presses_by_others_on_unfinished_reels_and_when_not_connected(bench: Bench) -> None:
    job = await bench.reel()
    with pytest.raises(NotConnected):
        await bench.studio.youtube_press(ALICE, job.id)
    await bench.connect()
    with pytest.raises(NotOwner):
        await bench.studio.youtube_press(BOB, job.id)
    await bench.app.jobs.set_state(job.id, JobState.FAILED, error="x")
    with pytest.raises(StaleJob):
        await bench.studio.youtube_press(ALICE, job.id)
    assert bench.fake.videos == {}


async def test_our_quota_is_alerted_a_revoked_token_is_not(bench: Bench) -> None:
    await bench.connect()
    job = await bench.reel()
    bench.fake.fail_next("quotaExceeded")
    with pytest.raises(YouTubeQuota) as quota:
        await bench.studio.post_youtube(ALICE, job.id, disclosure=None)
    assert quota.value.code == "youtube.quota"
    [alert] = bench.notes.sent
    assert "youtube" in alert and "quotaExceeded" in alert
    # The claim was released: once the quota is back, the press posts.
    posted = await bench.studio.post_youtube(ALICE, job.id, disclosure=None)
    assert posted.fresh

    other = await bench.reel()
    bench.fake.revoke_all()  # the user removed the app in their Google account
    with pytest.raises(YouTubeAuth) as revoked:
        await bench.studio.post_youtube(ALICE, other.id, disclosure=None)
    assert revoked.value.code == "youtube.revoked"
    assert len(bench.notes.sent) == 2  # the quota alert and its recovery; nothing for this
    assert "recovered" in bench.notes.sent[1]


async def test_an_upload_cut_short_is_finished_by_the_next_press(bench: Bench) -> None:
    await bench.connect()
    job = await bench.reel(size=900_000)
    bench.fake.drop_next = 10  # more drops in a row than the client retries
    bench.studio._yt().client.retries = 1
    bench.studio._yt().client.sleep = _no_wait
    with pytest.raises(ReelError):
        await bench.studio.post_youtube(ALICE, job.id, disclosure=None)
    assert bench.fake.videos == {}
    bench.fake.drop_next = 0
    posted = await bench.studio.post_youtube(ALICE, job.id, disclosure=None)
    assert posted.fresh
    starts = [r for r in bench.fake.requests if r == ("POST", "/upload/youtube/v3/videos")]
    assert len(starts) == 1  # the stored session went on; no second upload was started
    [(_, data)] = bench.fake.videos.values()
    assert data == (Path(job.work_dir) / "reel.mp4").read_bytes()


async def _no_wait(seconds: float) -> None:
    return None


async def test_disconnect_revokes_and_forgets(bench: Bench) -> None:
    await bench.connect()
    [refresh] = bench.fake.refresh_tokens
    assert await bench.studio.disconnect_youtube(ALICE) == "Demo channel"
    assert refresh not in bench.fake.refresh_tokens  # revoked at Google
    with pytest.raises(NotConnected):
        await bench.studio.disconnect_youtube(ALICE)


async def test_without_a_key_connecting_is_refused_with_how_to_make_one(
    settings: Settings,
) -> None:
    async with FakeYouTube() as fake:
        app = await App.open(_configured(settings, fake, youtube_token_key=None))
        try:
            with pytest.raises(NoTokenKey) as caught:
                await Studio(app).connect_youtube(ALICE, Bench.linked)  # type: ignore[arg-type]
        finally:
            await app.close()
    assert "Fernet.generate_key()" in str(caught.value)
    assert fake.requests == []  # Google was not asked


async def test_not_configured(settings: Settings) -> None:
    app = await App.open(settings)
    try:
        studio = Studio(app)
        assert not studio.youtube_ready
        with pytest.raises(NotConfigured):
            await studio.youtube_privacy(ALICE)
    finally:
        await app.close()


async def test_tokens_never_reach_the_logs(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    await bench.connect()
    job = await bench.reel()
    await bench.studio.post_youtube(ALICE, job.id, disclosure=None)
    await bench.studio.disconnect_youtube(ALICE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "linked channel" in logged and "on YouTube as" in logged
    for token in ("1//fake-refresh", "ya29.fake"):
        assert token not in logged
