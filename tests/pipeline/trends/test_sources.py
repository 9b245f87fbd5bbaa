"""Each trend source through real httpx against its fake: parsing, filtering, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from pipeline.adapters.trends import GoogleTrends, ListTrends, WikipediaTrends
from pipeline.adapters.trends._http import user_agent
from pipeline.adapters.trends.google_trends import parse_geo, parse_rss, traffic
from pipeline.adapters.trends.listfile import parse_list
from pipeline.chain import attempt
from pipeline.errors import ProviderError
from pipeline.ports import NewsItem, TrendSource
from tests.fakes.google_trends import FakeGoogleTrends, TrendItem
from tests.fakes.trends_common import bad_schema, empty, hang, malformed, status
from tests.fakes.wikipedia import FakeWikipedia

DAY = date(2026, 8, 17)
CONTACT = "ops@reels.example"


@pytest.fixture
async def wikipedia(wiki: FakeWikipedia) -> AsyncIterator[WikipediaTrends]:
    source = WikipediaTrends(base_url=wiki.base_url, contact=CONTACT, timeout=5, attempts=1)
    port: TrendSource = source  # mypy checks the protocol
    assert port.name == "wikipedia"
    try:
        yield source
    finally:
        await source.aclose()


@pytest.fixture
async def trends_rss(google: FakeGoogleTrends) -> AsyncIterator[GoogleTrends]:
    source = GoogleTrends(base_url=google.base_url, geo="en:US,es:ES", timeout=5, attempts=1)
    port: TrendSource = source
    assert port.name == "google_trends"
    try:
        yield source
    finally:
        await source.aclose()


# --- Wikipedia


async def test_wikipedia_reads_the_most_read_topics_and_skips_the_rest(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    trends = await wikipedia.trends(DAY, language="en")
    # Gone: Deaths_in_2026, Mercury (disambiguation), an actress who died this year, a list,
    # Special:Search, Main_Page and the bare year.
    assert [t.title for t in trends] == ["Comet Atlas", "Perseids", "Octopus", "Tour de France"]
    comet = trends[0]
    assert comet.traffic == 350_000 and comet.traffic_label == "350,000 views"
    assert comet.source == "wikipedia" and comet.language == "en"
    assert comet.url == "https://en.wikipedia.org/wiki/Comet_Atlas"
    assert comet.extract.startswith("Comet Atlas is a comet")
    assert comet.news == (
        NewsItem(
            "Astronomers report that Comet Atlas has become visible to the naked eye & may "
            "outshine Venus.",
            source="wikipedia",
        ),
    )
    assert trends[1].news == ()
    [request] = wiki.requests
    assert request.path == "/en/api/rest_v1/feed/featured/2026/08/17"
    assert request.user_agent.startswith("ReelFactory/")
    assert f"contact: {CONTACT}" in request.user_agent


async def test_wikipedia_skips_non_topics_in_russian_too(wikipedia: WikipediaTrends) -> None:
    trends = await wikipedia.trends(DAY, language="ru")
    titles = [t.title for t in trends]
    assert titles == ["Comet Atlas", "Perseids", "Octopus", "Tour de France"]


async def test_the_fake_refuses_a_generic_user_agent_as_wikimedia_does(
    wiki: FakeWikipedia,
) -> None:
    # This is why the adapter always sends its own agent: httpx's default is refused.
    async with httpx.AsyncClient() as client:
        url = wiki.base_url.replace("{lang}", "en") + "/feed/featured/2026/08/17"
        assert (await client.get(url)).status_code == 403
    assert user_agent(None).startswith("ReelFactory/") and "self-hosted" in user_agent(None)


async def test_a_feed_without_its_list_yet_asks_the_day_before(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    wiki.script(empty())
    trends = await wikipedia.trends(DAY, language="en")
    assert trends[0].title == "Comet Atlas"
    assert [r.path.rsplit("featured/", 1)[1] for r in wiki.requests] == [
        "2026/08/17",
        "2026/08/16",
    ]


async def test_a_day_not_begun_in_utc_asks_the_day_before(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    wiki.script(status(404))
    trends = await wikipedia.trends(DAY, language="en")
    assert trends[0].title == "Comet Atlas"
    assert [r.answered for r in wiki.requests] == [404, 200]


async def test_a_404_for_both_days_is_final(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    wiki.script(status(404), status(404))
    with pytest.raises(ProviderError, match="answered 404") as caught:
        await wikipedia.trends(DAY, language="en")
    assert not caught.value.retryable and len(wiki.requests) == 2


async def test_no_list_for_two_days_is_a_provider_error(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    wiki.script(empty(), empty())
    with pytest.raises(ProviderError, match="no most-read list") as caught:
        await wikipedia.trends(DAY, language="en")
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("behaviour", "retryable", "message"),
    [
        (status(429, retry_after=7), True, "answered 429"),
        (status(500), True, "answered 500"),
        (malformed(), False, "malformed JSON"),
        (bad_schema(), False, "unexpected shape"),
    ],
)
async def test_wikipedia_failures_are_provider_errors(
    wiki: FakeWikipedia,
    wikipedia: WikipediaTrends,
    behaviour: object,
    retryable: bool,
    message: str,
) -> None:
    wiki.script(behaviour)  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match=message) as caught:
        await wikipedia.trends(DAY, language="en")
    assert caught.value.retryable is retryable
    assert caught.value.provider == "wikipedia"
    if message == "answered 429":
        assert caught.value.retry_after == 7


async def test_a_hanging_wikipedia_times_out_under_its_policy(wiki: FakeWikipedia) -> None:
    wiki.script(hang(), hang())
    source = WikipediaTrends(base_url=wiki.base_url, contact=CONTACT, timeout=0.2, attempts=2)
    source.policy.backoff_initial = source.policy.backoff_max = 0.01
    try:
        with pytest.raises(ProviderError) as caught:
            await attempt(source, lambda: source.trends(DAY, language="en"))
    finally:
        await source.aclose()
    assert caught.value.retryable and caught.value.attempts == 2
    assert len(wiki.requests) == 2


async def test_a_language_that_is_not_a_code_never_reaches_a_host(
    wiki: FakeWikipedia, wikipedia: WikipediaTrends
) -> None:
    with pytest.raises(ProviderError, match="not a Wikipedia language"):
        await wikipedia.trends(DAY, language="evil.com/x")
    assert wiki.requests == []


# --- Google Trends


async def test_google_trends_reads_items_with_their_news(
    google: FakeGoogleTrends, trends_rss: GoogleTrends
) -> None:
    trends = await trends_rss.trends(DAY, language="en")
    assert [t.title for t in trends] == ["epic", "perseid meteor shower", "octopus"]
    epic = trends[0]
    assert epic.traffic == 1000 and epic.traffic_label == "1000+ searches"
    assert epic.source == "google_trends" and epic.language == "en"
    assert [(n.title, n.url, n.source) for n in epic.news] == [
        (
            "Following Epic loss, Google has started hosting rival app stores",
            "https://arstechnica.com/some-article",
            "Ars Technica",
        ),
        (
            "Epic v. Google: what the ruling means for Android",
            "https://www.theverge.com/epic-google-ruling",
            "The Verge",
        ),
    ]
    assert trends[2].news == ()
    assert google.requests[0].query == {"geo": "US"}
    assert google.requests[0].user_agent.startswith("ReelFactory/")


async def test_google_trends_asks_each_language_its_country(
    google: FakeGoogleTrends, trends_rss: GoogleTrends
) -> None:
    google.items["ES"] = [TrendItem("eclipse solar", "20K+")]
    [eclipse] = await trends_rss.trends(DAY, language="es")
    await trends_rss.trends(DAY, language="ru")  # no entry for ru: the first country
    assert eclipse.title == "eclipse solar" and eclipse.traffic == 20_000
    assert [r.query["geo"] for r in google.requests] == ["ES", "US"]


@pytest.mark.parametrize(
    ("behaviour", "retryable", "message"),
    [
        (status(429, retry_after=3), True, "answered 429"),
        (status(503), True, "answered 503"),
        (malformed(), False, "malformed XML"),
        (bad_schema(), False, "not an RSS feed"),
        (empty(), False, "no items"),
    ],
)
async def test_google_trends_failures_are_provider_errors(
    google: FakeGoogleTrends,
    trends_rss: GoogleTrends,
    behaviour: object,
    retryable: bool,
    message: str,
) -> None:
    google.script(behaviour)  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match=message) as caught:
        await trends_rss.trends(DAY, language="en")
    assert caught.value.retryable is retryable and caught.value.provider == "google_trends"


def test_xml_with_a_document_type_is_refused_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<rss><channel><item><title>&lol2;</title></item></channel></rss>"
    )
    with pytest.raises(ProviderError, match="document type"):
        parse_rss(bomb, language="en")


@pytest.mark.parametrize(
    ("label", "expected"),
    [("1000+", 1000), ("200,000+", 200_000), ("2M+", 2_000_000), ("50K+", 50_000), ("", None)],
)
def test_traffic_labels(label: str, expected: int | None) -> None:
    assert traffic(label) == expected


def test_geo_setting() -> None:
    assert parse_geo("us") == {"*": "US"}
    assert parse_geo("en:US, es:ES") == {"*": "US", "en": "US", "es": "ES"}
    with pytest.raises(ValueError, match="country code"):
        parse_geo("en:USA1")


# --- the offline list


def test_list_lines(tmp_path: Path) -> None:
    text = "# evergreen topics\n\nThe octopus\n[es] La historia del chocolate\n[ru] Байкал\n"
    assert parse_list(text, language="en") == ["The octopus"]
    assert parse_list(text, language="es") == ["The octopus", "La historia del chocolate"]


async def test_list_rotates_by_day_and_needs_no_network(tmp_path: Path) -> None:
    path = tmp_path / "topics.txt"
    path.write_text("One\nTwo\nThree\n", encoding="utf-8")
    source = ListTrends(path)
    first = [t.title for t in await source.trends(DAY, language="en")]
    second = [t.title for t in await source.trends(date(2026, 8, 18), language="en")]
    assert sorted(first) == sorted(second) == ["One", "Three", "Two"]
    assert first != second
    assert all(t.source == "list" for t in await source.trends(DAY, language="en"))


async def test_a_missing_or_empty_list_is_a_provider_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="does not exist"):
        await ListTrends(tmp_path / "nope.txt").trends(DAY, language="en")
    path = tmp_path / "only-es.txt"
    path.write_text("# nothing for English\n[es] Tapas\n", encoding="utf-8")
    with pytest.raises(ProviderError, match="no topic for en"):
        await ListTrends(path).trends(DAY, language="en")
