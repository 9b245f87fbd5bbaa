"""``reelfactory daily`` end to end: one reel per destination on the day's top topic, posted
once whatever happens (a second run, a SIGKILL mid-run, a channel the bot cannot post to)."""

from __future__ import annotations

import signal

import pytest

from pipeline.share import channel_key
from tests.fakes.groq import status
from tests.pipeline.share.helpers import parse

from .conftest import GROQ_KEY, Daily, two_scenes

pytestmark = pytest.mark.slow
DAY = "2026-08-18"


async def test_posts_one_reel_per_destination_and_nothing_the_second_time(daily: Daily) -> None:
    daily.groq.enqueue(two_scenes())
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    videos, reels = daily.channel_videos(), daily.channel_reels()
    assert len(videos) == 1 and len(reels) == 1, output
    # The top topic of the feed (the calendar list and other non-topics skipped), credited.
    assert "Trending on Wikipedia" in str(videos[0].params["caption"])
    assert "Trending on Wikipedia" in reels[0].content
    drafts = daily.groq.of("chat")
    assert len(drafts) == 1  # one render served both destinations
    assert "Comet Atlas" in str(drafts[0].json)  # the feed's top topic, with its context
    assert "brightened unexpectedly" in str(drafts[0].json)
    # Each channel's share page lists the reel; its links resolve in the local store.
    blobs = daily.tmp / "data" / "blobs"
    for destination in (f"telegram:{-1001234567890}", f"discord:{daily.news.id}"):
        page = blobs / channel_key(destination)
        (video,) = parse(page.read_text()).named("video")
        assert (page.parent / str(video["src"])).resolve().is_file(), destination

    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    assert "0 posted now, 2 before" in output
    assert len(daily.channel_videos()) == 1 and len(daily.channel_reels()) == 1
    assert len(daily.groq.of("chat")) == 1

    # Jobs count by the day they were made (today), daily reels by their run date.
    code, output = await daily.run("summary")
    assert code == 0, output
    assert "Jobs: 1 in all: 1 made, 0 failed, 0 cancelled" in output
    assert "success rate 100%" in output
    code, output = await daily.run("summary", "--date", DAY)
    assert code == 0, output
    assert f"telegram:{-1001234567890}: 1 of 1 posted" in output
    assert f"discord:{daily.news.id}: 1 of 1 posted" in output


@pytest.mark.parametrize("failpoint", ["voice", "delivered"])
async def test_a_kill_mid_run_then_daily_again_posts_once_per_destination(
    daily: Daily, failpoint: str
) -> None:
    daily.groq.enqueue(two_scenes())
    code, output = await daily.run("daily", "--date", DAY, failpoint=failpoint)
    assert code == -signal.SIGKILL, output
    posted_before = len(daily.channel_videos()) + len(daily.channel_reels())
    assert posted_before == (0 if failpoint == "voice" else 1)

    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    assert len(daily.channel_videos()) == 1, output
    assert len(daily.channel_reels()) == 1, output
    assert len(daily.groq.of("chat")) == 1  # the same topic resumed, not drafted again


async def test_a_channel_the_bot_cannot_post_to_does_not_stop_the_others(daily: Daily) -> None:
    daily.news.bot_can_send = False
    daily.groq.enqueue(two_scenes())
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 1, output
    assert len(daily.channel_videos()) == 1
    assert f"failed {DAY} discord:{daily.news.id}#0" in output
    assert any("a delivery failed" in dm for dm in daily.telegram_dms())
    assert any("a delivery failed" in dm for dm in daily.discord_dms())

    # Permission granted: the next run posts there, and only there, from the same render.
    daily.news.bot_can_send = True
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    assert len(daily.channel_videos()) == 1 and len(daily.channel_reels()) == 1
    assert len(daily.groq.of("chat")) == 1
    assert any("recovered: a delivery failed" in dm for dm in daily.telegram_dms())


async def test_with_every_llm_down_each_admin_gets_one_dm_per_platform(daily: Daily) -> None:
    daily.groq.enqueue(*[status(500) for _ in range(10)])
    for _ in range(3):
        code, output = await daily.run("daily", "--date", DAY)
        assert code == 1, output
    assert daily.channel_videos() == [] and daily.channel_reels() == []
    telegram, discord = daily.telegram_dms(), daily.discord_dms()
    assert len(telegram) == 1 and len(discord) == 1, (telegram, discord)
    assert "a daily run failed" in telegram[0]
    assert "DraftFailed" in telegram[0]
    for dm in telegram + discord:
        assert GROQ_KEY not in dm and "gsk_" not in dm

    daily.groq.queue.clear()
    daily.groq.enqueue(two_scenes())
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0, output
    telegram, discord = daily.telegram_dms(), daily.discord_dms()
    assert len(telegram) == 2 and len(discord) == 2
    assert "recovered: a daily run failed" in telegram[1]
    assert "recovered" in discord[1]
    code, output = await daily.run("daily", "--date", DAY)
    assert code == 0 and len(daily.telegram_dms()) == 2  # the recovery is said once


async def test_dry_run_prints_the_topics_and_claims_nothing(daily: Daily) -> None:
    code, output = await daily.run("daily", "--date", DAY, "--dry-run")
    assert code == 0, output
    assert f"{DAY} en: Comet Atlas" in output
    assert daily.channel_videos() == [] and daily.groq.of("chat") == []
