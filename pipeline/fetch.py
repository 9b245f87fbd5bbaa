"""Guarded image downloads: the one place that fetches arbitrary http(s) URLs.

Used for search results and for the user's own media (``ImageFetcher.fetch`` is a
``stages.images.MediaFetcher``). Every download:

- accepts http(s) only and follows at most ``MAX_REDIRECTS`` redirects itself, checking each hop;
- connects only to public addresses. The check lives in the connection layer: the hostname is
  resolved once, every address is checked, and the socket is opened to a checked address, so a
  DNS answer that changes between check and connect (rebinding) cannot reach an internal host.
  Hosts in ``allow_hosts`` (tests, a trusted proxy) skip the check;
- reads at most ``max_bytes`` (a larger Content-Length is refused before reading), asks for an
  uncompressed body and refuses compressed ones, so a small gzip cannot expand in memory;
- trusts the bytes, not the Content-Type: Pillow identifies the image among a few formats only
  (no EPS/PSD/... plugins), under its decompression-bomb guard;
- leaves an upright RGB JPEG, cover-cropped to ``size``, written atomically; the result is cached
  by URL so the same image is downloaded once.

Failures are ``ProviderError(provider="fetch")`` with messages fit to show: they name the host at
most, never the full URL (it may carry tokens) nor an internal address.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpcore
import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from . import cpu
from .concurrency import KeyedLocks
from .errors import ProviderError
from .fairshare import FairGate
from .files import atomic_copy, atomic_write
from .resilience import parse_retry_after

logger = logging.getLogger(__name__)

PROVIDER = "fetch"
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
JPEG_QUALITY = 90
# Decoding is CPU- and memory-bound (a 50 MP PNG is ~200 MB as RGBA): fewer at once than downloads.
DECODE_CONCURRENCY = 2
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HEADERS = {
    "User-Agent": "ReelFactory/0.1 (image fetcher)",
    "Accept": "image/avif,image/webp,image/png,image/jpeg,image/*;q=0.8",
    "Accept-Encoding": "identity",
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _refusal(message: str, *, status: int | None = None) -> ProviderError:
    return ProviderError(message, provider=PROVIDER, retryable=False, status=status)


def is_public_address(address: IPAddress) -> bool:
    """True for a globally routable unicast address. IPv6 forms that embed an IPv4 address
    (mapped, NAT64, 6to4) are judged by the IPv4 address they lead to."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
    # is_global alone lets multicast (224/4, ff00::/8) and some reserved ranges through.
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


def check_url(url: str | httpx.URL) -> httpx.URL:
    """Parse ``url`` and refuse anything but absolute http(s) URLs with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise _refusal("not a valid URL") from None
    if parsed.scheme not in ("http", "https"):
        raise _refusal("only http(s) images can be downloaded")
    if not parsed.host:
        raise _refusal("the URL has no host")
    return parsed


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, then connects to a checked one (never by name)."""

    def __init__(self, allow_hosts: Iterable[str]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow = frozenset(host.strip().strip("[]").lower() for host in allow_hosts)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if host.lower() in self._allow:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = await self._resolve(host, port)
        if not all(is_public_address(address) for address in addresses):
            logger.debug("fetch: refused %s: resolves to a non-public address", host)
            raise _refusal(f"{host} is not a public address")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise _refusal(f"cannot resolve {host}") from None
        addresses: list[IPAddress] = []
        for *_, sockaddr in infos:
            try:
                address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
            except ValueError:
                raise _refusal(f"{host} is not a public address") from None
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise _refusal(f"cannot resolve {host}")
        return addresses

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool whose connections all go through ``_GuardedBackend``.

    httpx takes no network backend, so the pool it builds is replaced (``_pool`` is the one
    attribute its request handling uses; httpx is pinned and the fetch tests cover this).
    """

    def __init__(self, allow_hosts: Iterable[str], limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),  # honours SSL_CERT_FILE/DIR
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(allow_hosts),
        )


class ImageFetcher:
    """Downloads images safely into ``cache_dir/images`` and copies them where asked.

    One shared HTTP client; call ``aclose()`` (or use ``async with``) when done.
    ``timeout`` bounds one whole download, redirects and body included.
    """

    def __init__(
        self,
        *,
        cache_dir: Path,
        allow_hosts: Iterable[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        concurrency: int = 6,
        timeout: float = 20.0,
        size: tuple[int, int] = (900, 1600),
    ) -> None:
        self.cache_dir = cache_dir / "images"
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.size = size
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(allow_hosts, limits),
            timeout=httpx.Timeout(timeout),
            headers=_HEADERS,
            follow_redirects=False,
            trust_env=False,
        )
        # Shared fairly between jobs, first candidates before alternates (pipeline.fairshare).
        self._downloads = FairGate(concurrency)
        self._decodes = FairGate(DECODE_CONCURRENCY)
        # One lock per URL being fetched, so concurrent requests for it share one download.
        self._inflight = KeyedLocks()

    async def __aenter__(self) -> ImageFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def cache_path(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        width, height = self.size
        return self.cache_dir / f"{digest}-{width}x{height}.jpg"

    async def fetch(self, url: str, dest_stem: Path) -> Path:
        """Download ``url`` (or take it from the cache) into ``dest_stem`` + ``.jpg``."""
        target = check_url(url)
        dest = dest_stem.with_suffix(".jpg")
        cached = self.cache_path(url)
        async with self._inflight.hold(url):
            if not cached.is_file():
                data = await self._download(target)
                async with self._decodes.slot():
                    await cpu.run(_render, data, self.size, cached)
        await asyncio.to_thread(atomic_copy, cached, dest)
        return dest

    async def download(
        self, url: str, *, kind: str, sniff: Callable[[bytes], bool], max_bytes: int
    ) -> bytes:
        """The same guarded download for other media (the music stage's audio tracks):
        ``sniff`` judges the first 16 bytes, ``kind`` names the media in messages. Not
        decoded, not cached: that is the caller's business."""
        return await self._download(check_url(url), _Expect(kind, sniff, max_bytes))

    async def _download(self, url: httpx.URL, expect: _Expect | None = None) -> bytes:
        host = url.host
        expect = expect or _Expect("image", looks_like_image, self.max_bytes)
        async with self._downloads.slot():
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(url, expect)
            except (TimeoutError, httpx.TimeoutException):
                raise ProviderError(
                    f"{host}: no {expect.kind} within {self.timeout:g} s",
                    provider=PROVIDER,
                    retryable=True,
                ) from None
            except httpx.HTTPError as exc:
                transient = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
                raise ProviderError(
                    f"{host}: download failed ({type(exc).__name__})",
                    provider=PROVIDER,
                    retryable=transient,
                ) from None

    async def _follow(self, url: httpx.URL, expect: _Expect) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._client.send(self._client.build_request("GET", url), stream=True)
            try:
                if response.status_code in _REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise _refusal(f"{url.host} redirected nowhere")
                    url = check_url(_join(response.url, location))
                    continue
                _check_status(response)
                return await self._read_capped(response, expect)
            finally:
                await response.aclose()
        raise _refusal(f"more than {MAX_REDIRECTS} redirects")

    async def _read_capped(self, response: httpx.Response, expect: _Expect) -> bytes:
        host, cap = response.url.host, expect.max_bytes
        too_big = _refusal(f"{host}: the {expect.kind} is over {cap / 2**20:.1f} MiB")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise too_big
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise _refusal(f"{host}: compressed responses are not accepted")
        body = bytearray()
        sniffed = False
        try:
            async for chunk in response.aiter_raw():
                body += chunk
                if len(body) > cap:
                    raise too_big
                if not sniffed and len(body) >= 16:
                    sniffed = True
                    if not expect.sniff(bytes(body[:16])):
                        raise _refusal(f"{host}: not {_article(expect.kind)} {expect.kind}")
        except BaseException:
            # The error's traceback holds this frame, and errors are kept (retries, logs,
            # tasks): without this, every refused download kept up to ``cap`` bytes alive
            # (measured under load: 28 of them, 443 MB, at the peak).
            body.clear()
            raise
        return bytes(body)


@dataclass(frozen=True, slots=True)
class _Expect:
    """What a download must be: its name in messages, a first look at its bytes, a cap."""

    kind: str
    sniff: Callable[[bytes], bool]
    max_bytes: int


def _article(kind: str) -> str:
    return "an" if kind[:1] in "aeiou" else "a"


def _join(base: httpx.URL, location: str) -> httpx.URL:
    try:
        return base.join(location)
    except (httpx.InvalidURL, ValueError):
        raise _refusal(f"{base.host} redirected to an invalid URL") from None


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{response.url.host} answered {status}"
    if status == 429 or status >= 500:
        raise ProviderError(
            message,
            provider=PROVIDER,
            retryable=True,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            status=status,
        )
    raise _refusal(message, status=status)


def looks_like_image(head: bytes) -> bool:
    """A cheap first look at the leading bytes, to stop reading a web page early. Pillow
    has the final say."""
    return (
        head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
        or head[4:8] == b"ftyp"  # ISO media: AVIF (HEIC is then refused by Pillow)
    )


def _render(data: bytes, size: tuple[int, int], target: Path) -> None:
    """Decode, orient, flatten, cover-crop and store: runs in a worker thread."""
    image = _decode(data, size)
    atomic_write(target, lambda out: image.save(out, "JPEG", quality=JPEG_QUALITY))


def _decode(data: bytes, size: tuple[int, int]) -> Image.Image:
    bomb = _refusal("the image has too many pixels")
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as opened:
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; a warning is not a refusal.
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and opened.width * opened.height > limit:
                raise bomb
            side = max(size)
            opened.draft(None, (side, side))  # JPEG: decode at 1/2..1/8 scale when big enough
            ImageOps.exif_transpose(opened, in_place=True)  # a copy otherwise, even upright
            return ImageOps.fit(_to_rgb(opened), size, Image.Resampling.LANCZOS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise bomb from None
    except UnidentifiedImageError:
        raise _refusal("not an image") from None
    except ProviderError:
        raise
    except Exception as exc:  # hostile input: any decoder failure is a refusal, not a crash
        logger.debug("fetch: undecodable image: %r", exc)
        raise _refusal("the image could not be decoded") from None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        # Transparent areas become black, the reel's own background.
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba).convert(
            "RGB"
        )
    return image if image.mode == "RGB" else image.convert("RGB")
