"""The scheduler inside ``serve``: the daily run at its time fires once, and a start-up after
a missed time catches it up once; both post through the running fronts' clients."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from bot import serve
from pipeline.app import App
from pipeline.settings import Settings
from storage import DailyPostRepository
from tests.fakes.discord import pointed_at

from .conftest import CHANNEL, GROQ_KEY, Daily, two_scenes

pytestmark = pytest.mark.slow


def midday_zone() -> ZoneInfo:
    """A fixed-offset zone where it is about noon now, so no test runs across a midnight."""
    offset = 12 - datetime.now(UTC).hour
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    return ZoneInfo(name)


def configured(settings: Settings, daily: Daily, at: datetime) -> Settings:
    zone = midday_zone()
    return settings.model_copy(
        update={
            "telegram": settings.telegram.model_copy(
                update={"bot_token": SecretStr(daily.tg.TOKEN), "api_base": daily.tg.base_url}
            ),
            "discord": settings.discord.model_copy(
                update={"bot_token": SecretStr(daily.dc.TOKEN), "api_base": daily.dc.base_url}
            ),
            "groq_api_key": SecretStr(GROQ_KEY),
            "groq_base_url": daily.groq.base_url,
            "script_chain": ["groq"],
            "voice_chain": ["espeak"],
            "image_chain": ["cards"],
            "provider_retries": 1,
            "trends_chain": ["wikipedia"],
            "wikipedia_api_base": daily.wiki.base_url,
            "contact_email": "ops@example.org",
            "daily_destinations": [f"telegram:{CHANNEL}", f"discord:{daily.news.id}"],
            "daily_time": at.astimezone(zone).time().replace(microsecond=0),
            "timezone": zone.key,
        }
    )


async def serve_until_posted(config: Settings, daily: Daily) -> list[str]:
    """Run ``serve`` until both destinations have their reel; the day's posted slots."""
    stop = asyncio.Event()
    with pointed_at(daily.dc):
        serving = asyncio.create_task(serve(config, stop=stop, handle_signals=False))
        try:
            await daily.tg.wait_for(
                "sendVideo", lambda c: str(c.params["chat_id"]) == str(CHANNEL), timeout=60
            )
            await daily.dc.wait_until(lambda: daily.channel_reels() or None, timeout=60)
            async with await App.open(config) as app:
                posts = DailyPostRepository(app.db)
                day = datetime.now(ZoneInfo(config.timezone)).date()
                for _ in range(100):
                    done = [p.key.destination for p in await posts.for_date(day) if p.done]
                    if len(done) == 2:
                        break
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
    return done


async def test_the_daily_time_a_few_seconds_ahead_fires_once(
    settings: Settings, daily: Daily
) -> None:
    daily.groq.enqueue(two_scenes())
    at = datetime.now(UTC) + timedelta(seconds=4)
    done = await serve_until_posted(configured(settings, daily, at), daily)
    assert datetime.now(UTC) >= at  # it waited for its time
    assert sorted(done) == sorted([f"telegram:{CHANNEL}", f"discord:{daily.news.id}"])
    assert len(daily.channel_videos()) == 1 and len(daily.channel_reels()) == 1
    assert len(daily.groq.of("chat")) == 1


async def test_a_start_up_after_a_missed_time_catches_up_once(
    settings: Settings, daily: Daily, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="scheduler")
    daily.groq.enqueue(two_scenes())
    missed = datetime.now(UTC) - timedelta(minutes=30)
    config = configured(settings, daily, missed)
    done = await serve_until_posted(config, daily)
    assert len(done) == 2
    # A second start-up the same day finds the day complete: nothing more is posted.
    stop = asyncio.Event()
    with pointed_at(daily.dc):
        serving = asyncio.create_task(serve(config, stop=stop, handle_signals=False))
        try:
            # The catch-up runs again and finds the day complete.
            async with asyncio.timeout(30):
                while not caught_up(caplog):
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(serving, 30)
    assert len(daily.channel_videos()) == 1 and len(daily.channel_reels()) == 1
    assert len(daily.groq.of("chat")) == 1


def caught_up(caplog: pytest.LogCaptureFixture) -> bool:
    return any("0 posted now, 2 before" in r.getMessage() for r in caplog.records)
