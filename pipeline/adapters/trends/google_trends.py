"""Trending searches from Google Trends' daily RSS (``{base}?geo=XX``; undocumented, keyless).

Each ``<item>`` has a ``<title>``, ``<ht:approx_traffic>`` ("1000+", once "200,000+") and up to
three ``<ht:news_item>`` with ``ht:news_item_title``, ``ht:news_item_url`` and
``ht:news_item_source``, in the ``https://trends.google.com/trending/rss`` namespace. The feed
has no date parameter: it is always today's, whatever day is asked.

XML from the network is parsed by the stdlib parser with document types refused outright: an
RSS feed needs none, and that leaves no entity expansion (billion laughs) or external entity to
exploit.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from datetime import date

import httpx

from ...errors import ProviderError
from ...ports import NewsItem, Trend
from ...resilience import Policy
from . import _http

logger = logging.getLogger(__name__)

NAME = "google_trends"
DEFAULT_BASE = "https://trends.google.com/trending/rss"
HT = "https://trends.google.com/trending/rss"
_NS = {"ht": HT}
_GEO = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
_TRAFFIC = re.compile(r"(\d[\d,.\s]*)\s*([KkMm])?\+?")
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_geo(setting: str) -> dict[str, str]:
    """``"US"`` (every language) or ``"en:US,es:ES"`` (per language, the first as default)
    into ``{language or "*": geo}``."""
    geos: dict[str, str] = {}
    for part in (p.strip() for p in setting.split(",")):
        if not part:
            continue
        language, sep, geo = part.rpartition(":")
        geo = geo.strip().upper()
        if not _GEO.fullmatch(geo):
            raise ValueError(f"{part!r}: {geo!r} is not a country code such as US or ES")
        geos.setdefault("*", geo)
        if sep:
            geos[language.strip().lower()] = geo
    if not geos:
        raise ValueError("no Google Trends country is set (e.g. US)")
    return geos


def traffic(label: str) -> int | None:
    """``"1000+"`` -> 1000, ``"200,000+"`` -> 200000, ``"2M+"`` -> 2000000; else None."""
    match = _TRAFFIC.fullmatch(label.strip())
    if not match:
        return None
    digits = re.sub(r"[,.\s]", "", match.group(1))
    scale = {"k": 1_000, "m": 1_000_000}.get((match.group(2) or "").lower(), 1)
    return int(digits) * scale


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path, _NS)
    return " ".join((found.text or "").split()) if found is not None else ""


def parse_rss(body: bytes, *, language: str) -> list[Trend]:
    """The items of one feed, in the feed's order (most searched first)."""
    if _DOCTYPE.search(body):
        raise ProviderError("answered XML with a document type; refused", provider=NAME)
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise ProviderError("answered malformed XML", provider=NAME) from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ProviderError(f"answered <{root.tag}>, not an RSS feed", provider=NAME)
    trends: list[Trend] = []
    for item in channel.findall("item"):
        title = _text(item, "title")
        if not title:
            continue
        label = _text(item, "ht:approx_traffic")
        news = tuple(
            NewsItem(
                title=_text(entry, "ht:news_item_title"),
                url=_text(entry, "ht:news_item_url"),
                source=_text(entry, "ht:news_item_source"),
            )
            for entry in item.findall("ht:news_item", _NS)
            if _text(entry, "ht:news_item_title")
        )
        trends.append(
            Trend(
                title=title,
                source=NAME,
                language=language,
                traffic=traffic(label),
                traffic_label=f"{label} searches" if label else "",
                news=news,
            )
        )
    if not trends:
        raise ProviderError("the feed has no items", provider=NAME)
    return trends


class GoogleTrends:
    """The ``TrendSource`` over Google Trends' daily RSS; needs no key."""

    name = NAME

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE,
        geo: str = "US",
        contact: str | None = None,
        timeout: float = 20.0,
        attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = Policy(NAME, timeout=timeout, attempts=attempts)
        self._base = base_url
        self._geo = parse_geo(geo)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": _http.user_agent(contact), "Accept": "application/rss+xml"},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def geo_for(self, language: str) -> str:
        return self._geo.get(language, self._geo["*"])

    async def trends(self, day: date, *, language: str) -> list[Trend]:
        geo = self.geo_for(language)
        body = await _http.get(self._client, self._base, provider=NAME, params={"geo": geo})
        return parse_rss(body, language=language)
