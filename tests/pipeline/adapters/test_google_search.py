"""The Google image-search adapter through real httpx and the fetcher, against the fake."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pipeline.adapters.google_search import (
    GoogleSearchImages,
    SearchItem,
    rank,
    search_query,
)
from pipeline.chain import attempt
from pipeline.errors import ProviderError
from pipeline.fetch import ImageFetcher
from pipeline.models import ImageCandidate, Scene, Script
from pipeline.ports import ImageSource
from tests.fakes.google_search import (
    FakeGoogleSearch,
    Logged,
    bad_schema,
    hang,
    item,
    malformed,
    status,
)

KEY = "AIzaFAKE-do-not-log-0123456789"
SCRIPT = Script(
    title="Octopus minds",
    scenes=[
        Scene(narration="The octopus has three hearts and blue blood.", visual_query="octopus"),
        Scene(narration='An "arm" can -taste on its own, OR so it seems.'),
    ],
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogleSearch]:
    async with FakeGoogleSearch() as server:
        yield server


@pytest.fixture
async def fetcher(tmp_path: Path) -> AsyncIterator[ImageFetcher]:
    async with ImageFetcher(cache_dir=tmp_path / "cache", allow_hosts=["127.0.0.1"]) as instance:
        yield instance


@pytest.fixture
async def source(
    fake: FakeGoogleSearch, fetcher: ImageFetcher
) -> AsyncIterator[GoogleSearchImages]:
    adapter = GoogleSearchImages(
        KEY, "cx-1", fetcher=fetcher, base_url=fake.base_url, timeout=5, attempts=2, rate=50
    )
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01
    port: ImageSource = adapter  # mypy checks the protocol
    assert port.name == "google_search"
    try:
        yield adapter
    finally:
        await adapter.aclose()


async def call(source: GoogleSearchImages, out: Path, scene: int = 0, count: int = 3) -> Any:
    """One provider turn, as the images stage makes it: under the adapter's policy."""
    return await attempt(source, partial(source.candidates, SCRIPT, scene, count, out))


def fetched_paths(fake: FakeGoogleSearch) -> list[str]:
    return [r.path for r in fake.downloads()]


# --- success --------------------------------------------------------------------------------


async def test_finds_portraits_first_and_skips_what_the_fetcher_refuses(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    found, attempts = await call(source, tmp_path / "images")
    assert attempts == 1
    assert all(isinstance(c, ImageCandidate) for c in found)
    # Portraits in Google's order: 720x1280, the PNG, (page, bomb, huge refused), the redirect.
    assert [c.source_url.split("?")[0].rsplit("/", 1)[1] for c in found] == [
        "720x1280.jpg",
        "1080x1920.png",
        "redirect",
    ]
    for candidate in found:
        assert (candidate.scene, candidate.provider) == (0, "google_search")
        assert candidate.path.parent == tmp_path / "images"
        with Image.open(candidate.path) as image:
            assert image.size == (900, 1600)
    fetched = fetched_paths(fake)
    # Never fetched: the landscape, the stock result, the duplicate, the small one, the square.
    assert not {"/img/1600x900.jpg", "/img/800x1400.jpg", "/img/400x600.jpg"} & set(fetched)
    assert "/img/1000x1000.jpg" not in fetched
    assert fetched.count("/img/720x1280.jpg") == 1


async def test_sends_the_api_parameters_and_keeps_the_key_out_of_the_url(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    await call(source, tmp_path, count=1)
    (search,) = fake.searches()
    assert search.api_key == KEY and "key" not in search.query
    assert search.query == {
        "cx": "cx-1",
        "q": "octopus",
        "searchType": "image",
        "imgSize": "large",
        "imgType": "photo",
        "num": "10",
        "safe": "active",
    }


async def test_fewer_than_wanted_when_results_run_out(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    fake.items = [
        item(fake.url("/page.html"), 1080, 1920),
        item(fake.url("/img/900x1600.jpg?only"), 900, 1600),
        item(fake.url("/bomb.png"), 1080, 1920),
    ]
    found, _ = await call(source, tmp_path)
    assert [c.source_url for c in found] == [fake.url("/img/900x1600.jpg?only")]
    fake.items = []
    assert await call(source, tmp_path, scene=1) == ([], 1)


async def test_a_repeated_query_costs_no_second_search(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    await call(source, tmp_path / "a", count=1)
    await call(source, tmp_path / "b", count=1)
    assert len(fake.searches()) == 1


def test_query_uses_the_visual_query_or_title_and_narration() -> None:
    assert search_query(SCRIPT, 0) == "octopus"
    assert search_query(SCRIPT, 1) == "Octopus minds An arm can taste on its own,"


def test_rank_filters_dedupes_and_prefers_portraits() -> None:
    def result(link: str, width: int, height: int, display: str = "example.org") -> SearchItem:
        return SearchItem.model_validate(item(link, width, height, display))

    items = [
        result("https://a.org/wide.jpg", 1920, 1080),
        result("https://a.org/square.jpg", 1200, 1200),
        result("https://a.org/tall.jpg?v=1", 1080, 1920),
        result("https://www.a.org/tall.jpg?v=2", 1080, 1920),  # same host and path
        result("https://a.org/small.jpg", 600, 1200),
        result("https://c8.alamy.com/comp/x.jpg", 1080, 1920),
        result("https://media.gettyimages.co.uk/x.jpg", 1080, 1920),
        result("https://t4.ftcdn.net/jpg/x.jpg", 1080, 1920),
        result("https://cdn.example.net/x.jpg", 1080, 1920, display="stock.adobe.com"),
        result("https://img.example.net/x.jpg", 1080, 1920, display="www.dreamstime.com"),
        result("https://a.org/watermark/y.jpg", 1080, 1920),
        result("ftp://a.org/z.jpg", 1080, 1920),
        result("https://b.org/tall.jpg", 720, 1280),
    ]
    assert [i.link for i in rank(items)] == [
        "https://a.org/tall.jpg?v=1",
        "https://b.org/tall.jpg",
        "https://a.org/square.jpg",
        "https://a.org/wide.jpg",
    ]


# --- failures -------------------------------------------------------------------------------


async def test_429_is_retried_after_retry_after(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    fake.script(status(429, retry_after=0.3))
    started = time.perf_counter()
    found, attempts = await call(source, tmp_path, count=1)
    assert attempts == 2 and len(found) == 1
    assert time.perf_counter() - started >= 0.29
    assert len(fake.searches()) == 2


async def test_a_spent_daily_quota_is_not_retried(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    fake.script(status(429, message="Quota exceeded for 'Queries per day'"))
    with pytest.raises(ProviderError) as caught:
        await call(source, tmp_path)
    assert not caught.value.retryable and caught.value.attempts == 1


async def test_500_is_retryable(
    fake: FakeGoogleSearch, source: GoogleSearchImages, tmp_path: Path
) -> None:
    fake.script(status(500), status(503))
    with pytest.raises(ProviderError) as caught:
        await call(source, tmp_path)
    error = caught.value
    assert (error.retryable, error.status, error.attempts) == (True, 503, 2)
    fake.script(status(500))
    assert len((await call(source, tmp_path, count=1))[0]) == 1


async def test_a_hanging_search_times_out_retryably(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    fake.script(hang(), hang())
    adapter = GoogleSearchImages(
        KEY, "cx", fetcher=fetcher, base_url=fake.base_url, timeout=0.2, attempts=2, rate=50
    )
    adapter.policy.backoff_initial = adapter.policy.backoff_max = 0.01
    try:
        with pytest.raises(ProviderError) as caught:
            await call(adapter, tmp_path)
    finally:
        await adapter.aclose()
    assert caught.value.retryable and caught.value.attempts == 2


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [(malformed(), "malformed JSON"), (bad_schema(), "unexpected shape"), (status(403), "403")],
)
async def test_broken_answers_are_not_retried(
    fake: FakeGoogleSearch,
    source: GoogleSearchImages,
    tmp_path: Path,
    behaviour: Any,
    words: str,
) -> None:
    fake.script(behaviour)
    with pytest.raises(ProviderError) as caught:
        await call(source, tmp_path)
    assert words in str(caught.value)
    assert not caught.value.retryable and caught.value.attempts == 1


async def test_the_key_never_reaches_logs_or_errors(
    fake: FakeGoogleSearch,
    source: GoogleSearchImages,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The CLI quiets httpx to WARNING; this test needs its request logs whatever ran before.
    caplog.set_level(logging.DEBUG, logger="httpx")
    fake.script(status(429, retry_after=0), status(400))
    with pytest.raises(ProviderError) as caught:
        await call(source, tmp_path)
    await call(source, tmp_path / "ok")
    assert "customsearch" in caplog.text  # httpx did log the requests
    assert KEY not in caplog.text and KEY not in str(caught.value)


# --- concurrency ----------------------------------------------------------------------------


def peak_overlap(requests: list[Logged]) -> int:
    edges = sorted([(r.started, 1) for r in requests] + [(r.ended, -1) for r in requests])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


async def test_the_images_of_a_twelve_scene_script_download_concurrently(
    fake: FakeGoogleSearch, tmp_path: Path
) -> None:
    fake.download_latency = 0.3
    # Small outputs keep decoding out of the timing; the default concurrency bound is 6.
    fetcher = ImageFetcher(cache_dir=tmp_path / "c", allow_hosts=["127.0.0.1"], size=(90, 160))
    source = GoogleSearchImages(
        KEY, "cx", fetcher=fetcher, base_url=fake.base_url, timeout=5, attempts=1, rate=50
    )
    script = Script(
        title="Twelve",
        scenes=[Scene(narration=f"scene {n}", visual_query=f"q{n}") for n in range(12)],
    )

    async def scene(n: int) -> list[ImageCandidate]:
        found, _ = await attempt(source, partial(source.candidates, script, n, 1, tmp_path))
        return list(found)

    try:
        started = time.perf_counter()
        per_scene = await asyncio.gather(*(scene(n) for n in range(12)))
        elapsed = time.perf_counter() - started
    finally:
        await source.aclose()
        await fetcher.aclose()
    assert [len(found) for found in per_scene] == [1] * 12
    assert len(fake.downloads()) == 12
    assert elapsed < 12 * 0.3 / 2, elapsed
    assert peak_overlap(fake.downloads()) == 6


async def test_the_search_rate_comes_from_the_settings(tmp_path: Path) -> None:
    """REELFACTORY_GOOGLE_SEARCH_RATE reaches the adapter's limiter (at 10 a second, fifty
    people approving at once waited 50 s for the last contact sheet)."""
    from pipeline.providers import build
    from pipeline.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        google_search_api_key=KEY,
        google_search_cx="cx",
        google_search_rate=7.5,
        image_chain=["google_search", "cards"],
    )
    providers = build(settings, parts=("media",))
    try:
        [search] = [s for s in providers.images if s.name == "google_search"]
        assert isinstance(search, GoogleSearchImages)
        assert (search.policy.rate, search.policy.limiter.max_rate) == (7.5, 7.5)
    finally:
        await providers.aclose()
