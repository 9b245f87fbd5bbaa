"""The guarded image fetcher against a real HTTP server on 127.0.0.1 (tests/fakes/google_search)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpcore
import pytest
from PIL import Image

from pipeline.errors import ProviderError
from pipeline.fetch import ImageFetcher, check_url, is_public_address
from pipeline.resilience import parse_retry_after
from tests.fakes.google_search import FakeGoogleSearch, Logged

RED, BLUE, BLACK = (255, 0, 0), (0, 0, 255), (0, 0, 0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogleSearch]:
    async with FakeGoogleSearch() as server:
        yield server


@pytest.fixture
async def fetcher(tmp_path: Path) -> AsyncIterator[ImageFetcher]:
    async with ImageFetcher(
        cache_dir=tmp_path / "cache", allow_hosts=["127.0.0.1"], max_bytes=2 * 2**20, timeout=5
    ) as instance:
        yield instance


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every host a socket is opened to; only the fake's 127.0.0.1 is really dialled."""
    hosts: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def spy(self: httpcore.AnyIOBackend, host: str, port: int, *args: Any) -> Any:
        hosts.append(host)
        if host != "127.0.0.1":
            raise httpcore.ConnectError("the tests never leave this machine")
        return await original(self, host, port, *args)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", spy)
    yield hosts


@pytest.fixture
async def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Resolver answers to stand in for DNS: host -> addresses."""
    answers: dict[str, list[str]] = {}
    loop = asyncio.get_running_loop()
    original = loop.getaddrinfo

    async def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return await original(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return answers


def close_to(pixel: object, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


async def refused(fetcher: ImageFetcher, url: str, tmp_path: Path) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await fetcher.fetch(url, tmp_path / "out" / "x")
    assert caught.value.provider == "fetch"
    assert not caught.value.retryable, caught.value
    assert not (tmp_path / "out" / "x.jpg").exists()
    return caught.value


# --- what comes out -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["720x1280.jpg", "1080x1920.png", "720x1280.webp"])
async def test_makes_an_upright_rgb_jpeg_of_the_target_size(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path, name: str
) -> None:
    path = await fetcher.fetch(fake.url(f"/img/{name}"), tmp_path / "out" / "3-user")
    assert path == tmp_path / "out" / "3-user.jpg"
    with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (900, 1600))
        assert close_to(image.getpixel((450, 300)), RED)
        assert close_to(image.getpixel((450, 1300)), BLUE)


async def test_applies_the_exif_orientation(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    # Stored as 1280x720 turned a quarter; shown upright it is red above blue.
    path = await fetcher.fetch(fake.url("/img/720x1280.jpg?orient=6"), tmp_path / "o")
    with Image.open(path) as image:
        assert image.size == (900, 1600)
        assert close_to(image.getpixel((800, 100)), RED)
        assert close_to(image.getpixel((100, 1500)), BLUE)


async def test_cover_crops_landscapes_and_flattens_transparency(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    path = await fetcher.fetch(fake.url("/img/1600x900.png?alpha=1"), tmp_path / "l")
    with Image.open(path) as image:
        assert (image.mode, image.size) == ("RGB", (900, 1600))
        assert close_to(image.getpixel((450, 200)), BLACK)  # was transparent
        assert close_to(image.getpixel((450, 1400)), BLUE)


# --- the address guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0.0.0.0"]
)
async def test_loopback_is_refused_unless_allowed(
    fake: FakeGoogleSearch, tmp_path: Path, connects: list[str], host: str
) -> None:
    port = fake.base_url.rsplit(":", 1)[1]
    async with ImageFetcher(cache_dir=tmp_path / "cache") as guarded:
        error = await refused(guarded, f"http://{host}:{port}/img/720x1280.jpg", tmp_path)
    assert "not a public address" in str(error)
    assert connects == [] and fake.requests == []


async def test_connects_to_the_address_it_checked_not_to_the_name(
    fetcher: ImageFetcher, tmp_path: Path, connects: list[str], dns: dict[str, list[str]]
) -> None:
    dns["images.example"] = ["93.184.216.34", "2606:2800:220:1::1"]
    with pytest.raises(ProviderError) as caught:
        await fetcher.fetch("http://images.example/a.jpg", tmp_path / "x")
    # Both checked addresses were tried (the spy refuses to dial out), the name never.
    assert connects == ["93.184.216.34", "2606:2800:220:1::1"]
    assert caught.value.retryable and "images.example" in str(caught.value)


async def test_one_private_address_among_public_ones_is_enough_to_refuse(
    fetcher: ImageFetcher, tmp_path: Path, connects: list[str], dns: dict[str, list[str]]
) -> None:
    dns["rebind.example"] = ["93.184.216.34", "127.0.0.1"]
    error = await refused(fetcher, "https://rebind.example/a.jpg", tmp_path)
    assert connects == [] and "127.0.0.1" not in str(error)


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.jpg", "https://[fd00::1]/"],
)
async def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    fake: FakeGoogleSearch,
    fetcher: ImageFetcher,
    tmp_path: Path,
    connects: list[str],
    target: str,
) -> None:
    started = time.perf_counter()
    await refused(fetcher, fake.url(f"/redirect?to={target}"), tmp_path)
    assert time.perf_counter() - started < 1.0
    assert connects == ["127.0.0.1"]
    assert [r.path for r in fake.requests] == ["/redirect"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.jpg",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "http:///nohost.jpg",
        "/img/720x1280.jpg",
        "not a url",
    ],
)
async def test_only_http_urls_are_fetched(
    fetcher: ImageFetcher, tmp_path: Path, connects: list[str], url: str
) -> None:
    await refused(fetcher, url, tmp_path)
    assert connects == []


async def test_a_redirect_to_another_scheme_is_refused(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    await refused(fetcher, fake.url("/redirect?to=file:///etc/passwd"), tmp_path)


async def test_follows_up_to_five_redirects(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    assert (await fetcher.fetch(fake.url("/loop?n=5"), tmp_path / "five")).is_file()
    error = await refused(fetcher, fake.url("/loop?n=6"), tmp_path)
    assert "redirects" in str(error)


def test_fetch_is_the_images_stage_media_fetcher(fetcher: ImageFetcher) -> None:
    from pipeline.stages.images import MediaFetcher

    media: MediaFetcher = fetcher.fetch  # mypy checks the signature
    assert callable(media)


def test_check_url_keeps_http_urls() -> None:
    assert str(check_url("https://example.org/a.jpg?x=1")) == "https://example.org/a.jpg?x=1"


# --- bad bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/huge?lie=1", "/huge"])
async def test_bodies_over_the_cap_are_refused(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path, path: str
) -> None:
    error = await refused(fetcher, fake.url(path), tmp_path)
    assert "MiB" in str(error)


async def test_a_web_page_is_not_an_image(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    error = await refused(fetcher, fake.url("/page.html"), tmp_path)
    assert "not an image" in str(error)


@pytest.mark.parametrize("side", [30000, 10000])
async def test_decompression_bombs_are_refused(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path, side: int
) -> None:
    # 30000² is over twice Pillow's limit (an error); 10000² only draws its warning.
    error = await refused(fetcher, fake.url(f"/bomb.png?side={side}"), tmp_path)
    assert "too many pixels" in str(error)


async def test_a_bomb_is_refused_even_where_warnings_are_only_shown(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        error = await refused(fetcher, fake.url("/bomb.png?side=10000"), tmp_path)
    assert "too many pixels" in str(error)


@pytest.mark.parametrize(
    ("path", "retryable", "retry_after"),
    [
        ("/status/429?retry_after=3", True, 3.0),
        ("/status/503", True, None),
        ("/status/404", False, None),
        ("/status/403", False, None),
    ],
)
async def test_http_errors_say_whether_to_retry(
    fake: FakeGoogleSearch,
    fetcher: ImageFetcher,
    tmp_path: Path,
    path: str,
    retryable: bool,
    retry_after: float | None,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await fetcher.fetch(fake.url(path), tmp_path / "x")
    assert (caught.value.retryable, caught.value.retry_after) == (retryable, retry_after)
    assert caught.value.status == int(path.split("/")[2].split("?")[0])
    assert "127.0.0.1" in str(caught.value) and "retry_after" not in str(caught.value)


async def test_a_slow_server_times_out_retryably(fake: FakeGoogleSearch, tmp_path: Path) -> None:
    fake.download_latency = 2.0
    async with ImageFetcher(
        cache_dir=tmp_path / "c", allow_hosts=["127.0.0.1"], timeout=0.2
    ) as slow:
        with pytest.raises(ProviderError) as caught:
            await slow.fetch(fake.url("/img/720x1280.jpg"), tmp_path / "x")
    assert caught.value.retryable


def test_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after(None) is None


# --- cache and concurrency ------------------------------------------------------------------


async def test_a_cached_url_is_not_downloaded_again(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    url = fake.url("/img/720x1280.jpg?c=1")
    first = await fetcher.fetch(url, tmp_path / "a")
    second = await fetcher.fetch(url, tmp_path / "b")
    async with ImageFetcher(cache_dir=tmp_path / "cache", allow_hosts=["127.0.0.1"]) as later:
        third = await later.fetch(url, tmp_path / "c")
    assert len(fake.downloads()) == 1
    assert first.read_bytes() == second.read_bytes() == third.read_bytes()
    assert fetcher.cache_path(url).is_file()


async def test_concurrent_fetches_of_one_url_share_a_download(
    fake: FakeGoogleSearch, fetcher: ImageFetcher, tmp_path: Path
) -> None:
    fake.download_latency = 0.1
    url = fake.url("/img/720x1280.jpg?c=2")
    paths = await asyncio.gather(*(fetcher.fetch(url, tmp_path / f"{i}") for i in range(4)))
    assert len(fake.downloads()) == 1 and all(path.is_file() for path in paths)


def peak_overlap(requests: list[Logged]) -> int:
    edges = sorted([(r.started, 1) for r in requests] + [(r.ended, -1) for r in requests])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


async def test_downloads_overlap_up_to_the_bound(fake: FakeGoogleSearch, tmp_path: Path) -> None:
    fake.download_latency = 0.3
    async with ImageFetcher(
        cache_dir=tmp_path / "c", allow_hosts=["127.0.0.1"], concurrency=6, size=(90, 160)
    ) as bounded:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                bounded.fetch(fake.url(f"/img/720x1280.jpg?n={n}"), tmp_path / f"{n}")
                for n in range(12)
            )
        )
        elapsed = time.perf_counter() - started
    assert elapsed < 12 * 0.3 / 2, elapsed
    assert peak_overlap(fake.downloads()) == 6
