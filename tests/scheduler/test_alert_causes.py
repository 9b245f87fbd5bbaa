"""The alert causes of issue 9 not covered elsewhere, through the real fronts' fakes: the trend
chain falling back, the DAILY_MAX_REELS cap, a crash at start-up (after the database opened)
and a front whose token is refused. Each reaches the admins on both platforms as one DM."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot import serve
from pipeline.settings import Settings
from tests.fakes.discord import pointed_at
from tests.fakes.trends_common import status

from .conftest import DC_ADMIN, TG_ADMIN, Daily, two_scenes
from .test_serve import configured

pytestmark = pytest.mark.slow
DAY = "2026-08-18"


def admins(settings: Settings, daily: Daily) -> Settings:
    config = configured(settings, daily, datetime.now(UTC) + timedelta(hours=3))
    return config.model_copy(update={"admins": [f"telegram:{TG_ADMIN}", f"discord:{DC_ADMIN.id}"]})


async def test_a_trend_chain_falling_back_is_alerted(daily: Daily, tmp_path: Path) -> None:
    topics = tmp_path / "topics.txt"
    topics.write_text("Deep sea vents\n", encoding="utf-8")
    daily.extra.update(
        REELFACTORY_TRENDS_CHAIN="wikipedia,list", REELFACTORY_TRENDS_LIST_FILE=str(topics)
    )
    daily.wiki.script(status(500))
    daily.groq.enqueue(two_scenes("Deep sea vents"))
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    assert "Deep sea vents" in str(daily.groq.of("chat")[0].json)  # the list served
    for dms in (daily.telegram_dms(), daily.discord_dms()):
        assert len(dms) == 1, dms
        assert "a provider keeps falling back" in dms[0] and "Stage: trends" in dms[0]


async def test_the_daily_cap_stops_hands_off_reels(daily: Daily) -> None:
    daily.extra["REELFACTORY_DAILY_MAX_REELS"] = "0"
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 1, output
    assert "DAILY_MAX_REELS" in output and "2 failed" in output
    assert not daily.channel_videos() and not daily.channel_reels()
    assert not daily.groq.of("chat")  # refused before any draft
    dms = daily.telegram_dms()
    assert len(dms) == 1 and "a daily run failed" in dms[0] and "QuotaExceeded" in dms[0]


async def test_a_crash_at_start_up_is_alerted(settings: Settings, daily: Daily) -> None:
    with socket.socket() as taken:  # the health port is in use
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = admins(settings, daily).model_copy(
            update={"http_port": port, "http_host": "127.0.0.1"}
        )
        with pointed_at(daily.dc), pytest.raises(OSError):
            await asyncio.wait_for(serve(config, handle_signals=False), 30)
    for dms in (daily.telegram_dms(), daily.discord_dms()):
        assert len(dms) == 1, dms
        assert "start-up failed" in dms[0] and "OSError" in dms[0]


async def test_a_front_that_cannot_connect_is_alerted(settings: Settings, daily: Daily) -> None:
    config = admins(settings, daily)
    refused = config.model_copy(
        update={"discord": config.discord.model_copy(update={"bot_token": SecretStr("nope")})}
    )
    with pointed_at(daily.dc), pytest.raises(BaseExceptionGroup):
        await asyncio.wait_for(serve(refused, handle_signals=False), 60)
    dms = daily.telegram_dms()
    assert len(dms) == 1 and "a front cannot connect" in dms[0] and "discord" in dms[0]
    assert "nope" not in dms[0]
