"""The daily run checks each trending topic before it is made: a refused one is skipped for
the next, and recorded. In process, topics from the list source, Groq moderating through the
real SDK against FakeGroq."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.adapters.trends import TrendChain
from pipeline.adapters.trends.listfile import ListTrends
from pipeline.app import App
from pipeline.delivery import Post
from pipeline.destinations import parse_destinations
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from scheduler.daily import DailyRun
from storage import ModerationRepository
from tests.fakes.groq import FakeGroq, status

# The list source starts each day at line (ordinal % lines): on this day, at the first.
DAY = date.fromordinal(3 * 246_000)
TOPICS = ["How to build a pipe bomb", "Octopus hearts", "The history of the atomic bomb"]


async def nowhere(post: Post) -> None:
    raise AssertionError("the preview posts nothing")


@pytest.fixture
async def run(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[DailyRun, FakeGroq]]:
    topics = tmp_path / "topics.txt"
    topics.write_text("\n".join(TOPICS), encoding="utf-8")
    async with FakeGroq() as fake:
        configured = settings.model_copy(
            update={
                "groq_api_key": SecretStr("test-key"),
                "groq_base_url": fake.base_url,
                "provider_timeout": 5.0,
                "provider_retries": 1,
            }
        )
        async with await App.open(
            configured, build(configured, parts=("script", "storage"))
        ) as app:
            daily = DailyRun(
                Studio(app),
                nowhere,
                TrendChain([ListTrends(topics)]),
                destinations=parse_destinations(["telegram:-100123"]),
            )
            yield daily, fake


async def test_a_refused_trend_is_skipped_for_the_next(run: tuple[DailyRun, FakeGroq]) -> None:
    daily, fake = run
    assert DAY.toordinal() % len(TOPICS) == 0
    report = await daily.preview(DAY)
    assert report.topics == {"en": ["Octopus hearts"]}
    asked = [r.json["messages"][-1]["content"] for r in fake.of("guard")]
    assert asked == ["How to build a pipe bomb", "Octopus hearts"]
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert await ModerationRepository(daily.app.db).counts_since(since) == {"S9": 1}


async def test_two_slots_take_the_next_two_safe_trends(run: tuple[DailyRun, FakeGroq]) -> None:
    daily, fake = run
    picked = await daily._pick(DAY, "en", 2)
    assert [trend.title for trend in picked.trends] == TOPICS[1:]


async def test_with_groq_down_the_local_list_still_skips_a_clear_case(
    run: tuple[DailyRun, FakeGroq],
) -> None:
    daily, fake = run
    fake.push("models", *[status(500)] * 6)
    report = await daily.preview(DAY)
    assert report.topics == {"en": ["Octopus hearts"]} and fake.of("guard") == []
