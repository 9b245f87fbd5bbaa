"""``reelfactory doctor`` against the fakes: the fronts' tokens accepted (Discord's
GET /users/@me at the configured base), the trend source giving topics, each daily destination
seen, the models served, and the next runs in the time zone; a retired model, a refused token
and a channel the bot cannot see make it fail, and no token is printed."""

from __future__ import annotations

import pytest

from pipeline import catalog
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram

from .conftest import CHANNEL, GROQ_KEY, Daily

pytestmark = pytest.mark.slow


def configure(daily: Daily) -> None:
    daily.extra.update(
        COLUMNS="220",
        REELFACTORY_TIMEZONE="Europe/Madrid",
        REELFACTORY_DAILY_TIME="07:30",
        REELFACTORY_SUMMARY_TIME="21:15",
        REELFACTORY_TRENDS_CHAIN="wikipedia,list",
    )


async def test_all_well(daily: Daily) -> None:
    configure(daily)
    code, output = await daily.run("doctor")
    assert code == 0, output
    assert "@reel_bot" in output  # Telegram's getMe
    assert "GET /users/@me" in output and len(daily.dc.of("get_me")) == 1
    assert "topics: Comet Atlas" in output  # Wikipedia's feed, the calendar list skipped
    assert "no TRENDS_LIST_FILE" in output
    assert f"telegram:{CHANNEL}" in output and "channel Channel" in output
    assert f"discord:{daily.news.id}" in output and "#news" in output
    assert "groq models" in output and "ours served" in output
    assert "daily reels: next run" in output and "07:30 Europe/Madrid" in output
    assert "summary: next run" in output and "21:15 Europe/Madrid" in output
    for token in (FakeTelegram.TOKEN, FakeDiscord.TOKEN, GROQ_KEY):
        assert token not in output


async def test_what_is_broken_is_named(daily: Daily) -> None:
    configure(daily)
    daily.groq.models.remove(catalog.GROQ_CHAT_MODEL)  # Groq retired it
    daily.tg.forbidden_chats.add(CHANNEL)  # the bot is not in the channel
    code, output = await daily.run("doctor")
    assert code == 1, output
    assert f"gone: {catalog.GROQ_CHAT_MODEL}" in output
    assert "HTTP 400" in output  # getChat: chat not found
    daily.extra["REELFACTORY_DISCORD_BOT_TOKEN"] = "not-the-token"
    code, output = await daily.run("doctor")
    assert code == 1 and "HTTP 401 (token refused)" in output, output
    assert "not-the-token" not in output
