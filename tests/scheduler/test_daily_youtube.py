"""A daily destination ``youtube:<owner>``: the day's reel goes up on the channel that user
linked, once, whatever the number of runs; an owner with no linked channel fails alone and
is tried again by the next run. In process: topics from the list source, drafts from
FakeGroq, a real render, the mock Google."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.channels import Posters
from bot.youtube import youtube_poster
from pipeline.adapters.trends import TrendChain
from pipeline.adapters.trends.listfile import ListTrends
from pipeline.app import App
from pipeline.destinations import parse_destinations
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from scheduler.daily import DailyRun
from tests.fakes.groq import FakeGroq
from tests.fakes.youtube import FakeYouTube

DAY = date(2026, 8, 18)
LINKED, UNLINKED = "telegram:101", "discord:202"

pytestmark = pytest.mark.slow


@dataclass
class Bench:
    daily: DailyRun
    studio: Studio
    youtube: FakeYouTube


@pytest.fixture
async def bench(settings: Settings, tmp_path: Path) -> AsyncIterator[Bench]:
    topics = tmp_path / "topics.txt"
    topics.write_text("Octopus hearts\nComet Atlas\n", encoding="utf-8")
    async with FakeGroq() as groq, FakeYouTube(interval=0) as youtube:
        configured = settings.model_copy(
            update={
                "groq_api_key": SecretStr("test-key"),
                "groq_base_url": groq.base_url,
                "provider_timeout": 5.0,
                "provider_retries": 1,
                "music_enabled": False,
                "sound_effects": False,
                "youtube_client_id": "demo-client",
                "youtube_token_key": SecretStr(Fernet.generate_key().decode()),
                "youtube_oauth_base": youtube.base_url,
                "youtube_api_base": youtube.base_url,
            }
        )
        async with await App.open(configured, build(configured)) as app:
            studio = Studio(app)
            posters = Posters()
            posters.add("youtube", youtube_poster(studio))
            daily = DailyRun(
                studio,
                posters,
                TrendChain([ListTrends(topics)]),
                destinations=parse_destinations([f"youtube:{LINKED}", f"youtube:{UNLINKED}"]),
            )
            yield Bench(daily, studio, youtube)


async def _link(bench: Bench, owner: str) -> None:
    done = asyncio.Event()

    async def linked(outcome: object) -> None:
        done.set()

    bench.youtube.approve_after = 0
    await bench.studio.connect_youtube(owner, linked)
    await asyncio.wait_for(done.wait(), 10)


async def test_the_days_reel_goes_to_the_linked_channel_once(bench: Bench) -> None:
    await _link(bench, LINKED)
    report = await bench.daily.run(DAY)
    assert report.posted == [f"youtube:{LINKED}#0"]
    assert list(report.failed) == [f"youtube:{UNLINKED}#0"]
    assert "no YouTube channel linked" in report.failed[f"youtube:{UNLINKED}#0"]
    [(video, data)] = bench.youtube.videos.values()
    assert video["status"]["containsSyntheticMedia"] is True
    assert video["status"]["privacyStatus"] == "private"  # the owner's choice, set explicitly
    assert video["snippet"]["description"].endswith(
        "🤖 Made with AI: the script, voice or images may be AI-generated."
    )
    assert len(data) > 10_000  # the rendered MP4
    assert data[4:8] == b"ftyp"

    # The next run posts nothing again where it is done; the unlinked owner is tried again.
    await _link(bench, UNLINKED)
    again = await bench.daily.run(DAY)
    assert again.already == 1
    assert again.posted == [f"youtube:{UNLINKED}#0"]
    assert len(bench.youtube.videos) == 2
    channels = {v["snippet"]["channelId"] for v, _ in bench.youtube.videos.values()}
    assert len(channels) == 2  # each owner's own channel
    third = await bench.daily.run(DAY)
    assert (third.posted, third.already) == ([], 2)
    assert len(bench.youtube.videos) == 2
