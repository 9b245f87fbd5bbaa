"""Image candidates from Google Programmable Search (the Custom Search JSON API, image search).

One search per scene, then the best results are downloaded through the guarded ``ImageFetcher``.
Results are kept when their short side is at least ``MIN_SHORT_SIDE``; stock and watermark sites
are dropped, duplicates too; portraits come first (the reel is 9:16), otherwise Google's order is
kept. Results the fetcher refuses (not an image, too big, private address...) are skipped.

The API key travels in the ``X-goog-api-key`` header, not the query string: httpx logs request
URLs at INFO and the key must not reach the logs. Retries belong to ``self.policy`` (applied by
``chain.attempt``); this module never retries by itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import httpx
from pydantic import BaseModel, Field, ValidationError

from ..errors import ProviderError
from ..fetch import ImageFetcher
from ..models import ImageCandidate, Script
from ..resilience import Policy, parse_retry_after

logger = logging.getLogger(__name__)

NAME = "google_search"
SEARCH_PATH = "/customsearch/v1"
MIN_SHORT_SIDE = 720
RESULTS_PER_SEARCH = 10  # the API's maximum per request
NARRATION_WORDS = 8
MAX_QUERY_CHARS = 200
REMEMBERED_SEARCHES = 256

# Host labels of stock-photo sites (their previews are watermarked) and their image CDNs.
# Matching labels rather than whole domains catches country domains (gettyimages.co.uk, alamy.de).
STOCK_LABELS = frozenset(
    {
        "123rf",
        "adobestock",
        "agefotostock",
        "alamy",
        "bigstockphoto",
        "canstockphoto",
        "colourbox",
        "depositphotos",
        "dreamstime",
        "eyeem",
        "featurepics",
        "fotolia",
        "fotosearch",
        "freepik",
        "ftcdn",  # Adobe Stock / Fotolia previews
        "gettyimages",
        "imago-images",
        "istockphoto",
        "masterfile",
        "panthermedia",
        "pond5",
        "shutterstock",
        "stocksy",
        "storyblocks",
        "superstock",
        "vecteezy",
        "vectorstock",
    }
)
STOCK_HOSTS = ("stock.adobe.com",)


class SearchImage(BaseModel):
    """The ``image`` part of a result (only the fields used here)."""

    width: int
    height: int
    context_link: str = Field("", alias="contextLink")


class SearchItem(BaseModel):
    """One result of an image search, validated from the API's camelCase JSON."""

    link: str
    image: SearchImage
    display_link: str = Field("", alias="displayLink")
    mime: str = ""


class _SearchAnswer(BaseModel):
    items: list[SearchItem] = Field(default_factory=list)


class GoogleSearchImages:
    """The ``ImageSource`` over Google image search. Closes its own HTTP client only: the
    fetcher is shared (user media too) and closed by its owner."""

    name = NAME

    def __init__(
        self,
        api_key: str,
        cx: str,
        *,
        fetcher: ImageFetcher,
        base_url: str = "https://www.googleapis.com",
        timeout: float,
        attempts: int,
        rate: float,
    ) -> None:
        self.policy = Policy(NAME, timeout=timeout, attempts=attempts, rate=rate)
        self._cx = cx
        self._fetcher = fetcher
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout),
            headers={"X-goog-api-key": api_key, "Accept": "application/json"},
        )
        # A retry after a slow download, or a second pass over the same script, costs no quota.
        self._remembered: OrderedDict[str, list[SearchItem]] = OrderedDict()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        if count <= 0:
            return []
        items = rank(await self.search(search_query(script, scene)))
        found = await self._download(items, scene, count, out_dir)
        if len(found) < count:
            logger.info(
                "%s: scene %d: %d of %d wanted from %d usable results",
                NAME,
                scene,
                len(found),
                count,
                len(items),
            )
        return found

    async def search(self, query: str) -> list[SearchItem]:
        """One image search; the result items as the API returned them (unfiltered)."""
        if query in self._remembered:
            self._remembered.move_to_end(query)
            return self._remembered[query]
        params = {
            "cx": self._cx,
            "q": query,
            "searchType": "image",
            "imgSize": "large",
            "imgType": "photo",
            "num": str(RESULTS_PER_SEARCH),
            "safe": "active",
        }
        try:
            response = await self._client.get(SEARCH_PATH, params=params)
        except httpx.TimeoutException:
            raise ProviderError("search timed out", provider=NAME, retryable=True) from None
        except httpx.HTTPError as exc:
            transient = isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
            raise ProviderError(
                f"search failed ({type(exc).__name__})", provider=NAME, retryable=transient
            ) from None
        items = _parse(response)
        self._remembered[query] = items
        if len(self._remembered) > REMEMBERED_SEARCHES:
            self._remembered.popitem(last=False)
        return items

    async def _download(
        self, items: list[SearchItem], scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        """Fetch ``count`` images, in rank order, at most ``count`` at a time (the fetcher's own
        semaphore bounds all downloads). A refused result hands its turn to the next one."""
        queue: Iterator[tuple[int, SearchItem]] = iter(enumerate(items))
        found: dict[int, ImageCandidate] = {}

        async def worker() -> None:
            for position, item in queue:
                stem = out_dir / f"{scene}-google-{position}"
                try:
                    path = await self._fetcher.fetch(item.link, stem)
                except ProviderError as exc:
                    logger.info("%s: scene %d: skipped a result: %s", NAME, scene, exc)
                    continue
                found[position] = ImageCandidate(
                    scene=scene, path=path, provider=NAME, source_url=item.link
                )
                return

        async with asyncio.TaskGroup() as group:
            for _ in range(min(count, len(items))):
                group.create_task(worker())
        return [found[position] for position in sorted(found)]


def search_query(script: Script, scene: int) -> str:
    """The scene's visual query; without one, the title and the start of the narration."""
    current = script.scenes[scene]
    text = current.visual_query.strip()
    if not text:
        words = current.narration.split()[:NARRATION_WORDS]
        text = " ".join([script.title, *words])
    # Quotes, leading minus signs and OR would change the search's meaning.
    text = re.sub(r'["“”«»]|(?<!\S)-+|\bOR\b', " ", text)
    return " ".join(text.split())[:MAX_QUERY_CHARS].strip()


def rank(items: list[SearchItem]) -> list[SearchItem]:
    """Big enough, not stock, no duplicates; portraits first, then squares, then landscapes."""
    kept: list[SearchItem] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        try:
            url = httpx.URL(item.link)
        except httpx.InvalidURL:
            continue
        if url.scheme not in ("http", "https") or not url.host:
            continue
        if min(item.image.width, item.image.height) < MIN_SHORT_SIDE or _is_stock(item, url):
            continue
        key = (url.host.lower().removeprefix("www."), url.path)
        if key in seen:
            continue
        seen.add(key)
        kept.append(item)
    return sorted(kept, key=_shape_order)


def _shape_order(item: SearchItem) -> int:
    width, height = item.image.width, item.image.height
    return 0 if height > width else 1 if height == width else 2


def _is_stock(item: SearchItem, url: httpx.URL) -> bool:
    for raw in (url.host, item.display_link, _host(item.image.context_link)):
        host = raw.lower().strip(".").partition(":")[0]
        if any(host == stock or host.endswith("." + stock) for stock in STOCK_HOSTS):
            return True
        if STOCK_LABELS.intersection(host.split(".")):
            return True
    return "watermark" in url.path.lower()


def _host(link: str) -> str:
    try:
        return httpx.URL(link).host
    except httpx.InvalidURL:
        return ""


def _parse(response: httpx.Response) -> list[SearchItem]:
    status = response.status_code
    if status != 200:
        raise _status_error(response)
    try:
        data = response.json()
    except ValueError:
        raise ProviderError("search answered malformed JSON", provider=NAME) from None
    try:
        return _SearchAnswer.model_validate(data).items
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"]) or "top level"
        raise ProviderError(
            f"search answered an unexpected shape (at {where})", provider=NAME
        ) from None


def _status_error(response: httpx.Response) -> ProviderError:
    status = response.status_code
    reason, message = "", ""
    try:
        error = response.json().get("error", {})
        reason, message = str(error.get("status", "")), str(error.get("message", ""))
    except (ValueError, AttributeError):
        pass
    # A spent daily quota answers 429 too; waiting seconds will not bring it back.
    daily = status == 429 and "per day" in message.lower()
    retryable = (status == 429 and not daily) or status >= 500
    detail = "the daily quota is spent" if daily else reason
    return ProviderError(
        f"search answered {status}" + (f" ({detail})" if detail else ""),
        provider=NAME,
        retryable=retryable,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        status=status,
    )
