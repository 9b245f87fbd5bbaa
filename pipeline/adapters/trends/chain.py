"""The trend chain: sources tried in the order of ``REELFACTORY_TRENDS_CHAIN``, each under its
retry policy; a source that fails (429, 5xx, garbage, timeout) or has only topics made lately
hands over to the next. Also what a picked trend gives the rest of the pipeline: the context
for the script writer and a credit line for the caption."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Protocol

from ...chain import attempt
from ...errors import ProviderError, ProviderUnavailable
from ...ports import Trend, TrendSource
from ...settings import Settings
from .google_trends import GoogleTrends
from .listfile import ListTrends
from .wikipedia import WikipediaTrends

logger = logging.getLogger(__name__)

STAGE = "trends"
SOURCE_NAMES = {"wikipedia": "Wikipedia", "google_trends": "Google Trends", "list": "the list"}
MAX_HEADLINES = 3
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """The key two titles of one topic share: "Taylor_Swift", "taylor swift" and "Taylor
    Swift!" all give "taylor swift"; accents are dropped, so "Pelé" matches "Pele"."""
    decomposed = unicodedata.normalize("NFKD", title).casefold()
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", bare).split())


@dataclass(slots=True)
class Picked:
    """The topics found, which sources gave them, and the sources that failed on the way."""

    trends: list[Trend]
    served_by: list[str] = field(default_factory=list)
    failures: list[ProviderError] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return bool(self.failures)


class TrendChain:
    def __init__(self, sources: Sequence[TrendSource], closers: AsyncExitStack | None = None):
        self.sources = list(sources)
        self._closers = closers or AsyncExitStack()

    @property
    def names(self) -> list[str]:
        return [source.name for source in self.sources]

    async def aclose(self) -> None:
        await self._closers.aclose()

    async def pick(
        self, day: date, *, language: str, count: int = 1, exclude: Iterable[str] = ()
    ) -> Picked:
        """Up to ``count`` distinct topics for ``day``, none matching a title in ``exclude``
        (compared normalised). Fewer when every source runs dry; ProviderUnavailable when
        none gives a single one."""
        seen = {normalise_title(title) for title in exclude}
        picked = Picked(trends=[])
        for source in self.sources:
            try:
                found, _ = await attempt(source, partial(source.trends, day, language=language))
            except ProviderError as exc:
                picked.failures.append(exc)
                logger.warning("%s: %s failed, trying the next source: %s", STAGE, source.name, exc)
                continue
            fresh = 0
            for trend in found:
                key = normalise_title(trend.title)
                if not key or key in seen:
                    continue
                seen.add(key)
                picked.trends.append(trend)
                fresh += 1
                if len(picked.trends) == count:
                    break
            if fresh:
                picked.served_by.append(source.name)
            else:
                logger.info("%s: %s had no topic not made lately", STAGE, source.name)
            if len(picked.trends) >= count:
                return picked
        if not picked.trends:
            reasons = "; ".join(str(exc) for exc in picked.failures)
            raise ProviderUnavailable(
                reasons or "no source had a topic not made lately", provider=STAGE, stage=STAGE
            )
        logger.warning("%s: %d of %d topics found", STAGE, len(picked.trends), count)
        return picked


class TopicHistory(Protocol):
    """Topics made lately (``storage.DailyPostRepository`` is one)."""

    async def recent_topics(
        self, since: date, until: date, *, language: str | None = None
    ) -> list[str]: ...


async def pick_fresh(
    chain: TrendChain,
    history: TopicHistory,
    day: date,
    *,
    language: str,
    count: int,
    repeat_days: int,
) -> Picked:
    """``count`` topics for ``day`` in ``language`` that were not made in the ``repeat_days``
    before it, nor already on ``day`` itself. Pick once per language and day, then give the
    same topics to every destination in that language: one render serves them all."""
    recent: list[str] = []
    if repeat_days > 0:
        since = day - timedelta(days=repeat_days)
        recent = await history.recent_topics(since, day, language=language)
    return await chain.pick(day, language=language, count=count, exclude=recent)


def build_trend_chain(settings: Settings) -> TrendChain:
    """The sources of ``settings.trends_chain``, in order. ``list`` needs a file; the others
    need no key."""
    closers = AsyncExitStack()
    sources: list[TrendSource] = []
    timeout, attempts = settings.provider_timeout, settings.provider_retries
    for name in settings.trends_chain:
        source: TrendSource
        if name == "wikipedia":
            if not settings.contact_email:
                logger.warning(
                    "wikipedia: set REELFACTORY_CONTACT_EMAIL; Wikimedia asks for a contact in "
                    "the User-Agent and may refuse requests without one"
                )
            wikipedia = WikipediaTrends(
                base_url=settings.wikipedia_api_base,
                contact=settings.contact_email,
                timeout=timeout,
                attempts=attempts,
            )
            closers.push_async_callback(wikipedia.aclose)
            source = wikipedia
        elif name == "google_trends":
            google = GoogleTrends(
                base_url=settings.google_trends_rss_base,
                geo=settings.google_trends_geo,
                contact=settings.contact_email,
                timeout=timeout,
                attempts=attempts,
            )
            closers.push_async_callback(google.aclose)
            source = google
        elif name == "list" and settings.trends_list_file is not None:
            source = ListTrends(settings.trends_list_file)
        else:
            logger.info("trends: no offline list (set REELFACTORY_TRENDS_LIST_FILE)")
            continue
        sources.append(source)
    return TrendChain(sources, closers)


def context_of(trend: Trend) -> str:
    """What the script writer is told about why the topic trends (see
    ``scriptwriting.topic_context``); empty for a topic with nothing behind it."""
    lines: list[str] = []
    if trend.traffic_label and trend.source in SOURCE_NAMES:
        lines.append(f"Trending on {SOURCE_NAMES[trend.source]}: {trend.traffic_label}.")
    if trend.extract:
        lines.append(f"Summary: {trend.extract}")
    headlines = trend.news[:MAX_HEADLINES]
    if headlines:
        lines.append("Headlines:")
        for item in headlines:
            where = ", ".join(part for part in (item.source, item.url) if part)
            lines.append(f"- {item.title}" + (f" ({where})" if where else ""))
    return "\n".join(lines)


def credit(trend: Trend) -> str:
    """A caption line naming where the topic trends; empty for the operator's own list."""
    if trend.source == "list" or trend.source not in SOURCE_NAMES:
        return ""
    detail = f" ({trend.traffic_label})" if trend.traffic_label else ""
    return f"Trending on {SOURCE_NAMES[trend.source]}{detail}"
