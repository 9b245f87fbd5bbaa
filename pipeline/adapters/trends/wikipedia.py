"""Trending topics from Wikipedia's "most read" list (the Wikimedia REST featured feed).

``GET {base}/feed/featured/YYYY/MM/DD`` answers ``{"mostread": {"date", "articles": [...]}}``,
each article a page summary plus ``views`` and ``rank``. The feed for day D carries the list for
D-1; for a day whose page views have not landed yet ``mostread`` is absent, and the day before
is asked instead. The server keeps only articles (namespace 0) and drops the main page and a
deny list, but calendar lists, disambiguation pages and the like still come through: they are
filtered here, per language. Headlines from the feed's ``news`` section that link an article
become its news context.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date, timedelta

import httpx
from pydantic import BaseModel, Field, ValidationError

from ...errors import ProviderError
from ...ports import NewsItem, Trend
from ...resilience import Policy
from . import _http

logger = logging.getLogger(__name__)

NAME = "wikipedia"
DEFAULT_BASE = "https://{lang}.wikipedia.org/api/rest_v1"
MAX_EXTRACT_CHARS = 600
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z]{2,8})?")

_MONTHS = {
    "en": "January|February|March|April|May|June|July|August|September|October|November|December",
    "ru": "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря",
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|"
    "diciembre",
    "de": "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember",
    "fr": "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
    "it": "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|"
    "dicembre",
    "pt": "janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|"
    "dezembro",
}

# Titles that are not topics for a reel: main pages, calendar pages, lists (of deaths above
# all), and namespaces other than articles should the server let one through.
_NOT_TOPICS = {
    "*": [
        r"\d{1,4}",  # a bare year
        r".*\((disambiguation|значения|desambiguación|Begriffsklärung|homonymie)\)",
        r"(Special|File|Wikipedia|Portal|Category|Template|Help|User|Talk|Draft):.*",
        r"(Google|Facebook|Instagram|WhatsApp|Wikipedia|Bing|Yahoo!?|Gmail|Netflix|Amazon)",
    ],
    "en": [
        r"Main Page",
        r"Deaths in .*",
        r"\d{4} deaths",
        r"Lists? of .*",
        rf"({_MONTHS['en']}) \d{{1,2}}",
        r"\d{4} in .*",
    ],
    "ru": [
        r"Заглавная страница",
        r"(Список )?[Уу]мершие в .*",
        r"Список .*",
        rf"\d{{1,2}} ({_MONTHS['ru']})",
        r"\d{4} год",
        r"(Служебная|Файл|Википедия|Портал|Категория|Шаблон):.*",
    ],
    "es": [
        r"(Wikipedia:)?Portada",
        r"(Anexo:)?Fallecidos en .*",
        r"(Anexo|Especial|Archivo|Categoría|Plantilla):.*",
        r"Lista de .*",
        rf"\d{{1,2}} de ({_MONTHS['es']})",
    ],
    "de": [
        r"(Wikipedia:)?Hauptseite",
        r"Nekrolog .*",
        r"Liste (der|des|von) .*",
        r"(Spezial|Datei|Kategorie|Vorlage):.*",
        rf"\d{{1,2}}\. ({_MONTHS['de']})",
    ],
    "fr": [
        r"(Wikipédia:)?Accueil principal",
        r"Décès en .*",
        r"Liste (des|de|d'|du) ?.*",
        r"(Spécial|Fichier|Catégorie|Modèle):.*",
        rf"\d{{1,2}}(er)? ({_MONTHS['fr']})",
    ],
    "it": [
        r"Pagina principale",
        r"Morti nel .*",
        r"(Lista|Liste) di .*",
        r"(Speciale|Categoria):.*",
        rf"\d{{1,2}}(º)? ({_MONTHS['it']})",
    ],
    "pt": [
        r"(Wikipédia:)?Página principal",
        r"Mortes em .*",
        r"Lista de .*",
        r"(Especial|Ficheiro|Categoria|Predefinição):.*",
        rf"\d{{1,2}} de ({_MONTHS['pt']})",
    ],
}
_COMPILED: dict[str, re.Pattern[str]] = {}

# "American actor (1948–2026)": a death this year or last; a reel about it would be tasteless.
_LIFESPAN = re.compile(r"\(\s*(?:born\s+|c\.\s*)?\d{1,4}\s*[–—-]\s*(\d{4})\s*\)")


def _pattern(language: str) -> re.Pattern[str]:
    if language not in _COMPILED:
        parts = _NOT_TOPICS["*"] + _NOT_TOPICS.get(language, [])
        _COMPILED[language] = re.compile("|".join(f"(?:{part})" for part in parts), re.IGNORECASE)
    return _COMPILED[language]


class _Titles(BaseModel):
    normalized: str = ""
    canonical: str = ""


class _Namespace(BaseModel):
    id: int = 0


class _DesktopUrls(BaseModel):
    page: str = ""


class _ContentUrls(BaseModel):
    desktop: _DesktopUrls = Field(default_factory=_DesktopUrls)


class Article(BaseModel):
    """A ``mostread_article``: a page summary plus ``views`` and ``rank``."""

    title: str
    views: int
    rank: int | None = None
    type: str = "standard"
    titles: _Titles | None = None
    normalizedtitle: str = ""
    namespace: _Namespace = Field(default_factory=_Namespace)
    description: str = ""
    extract: str = ""
    content_urls: _ContentUrls = Field(default_factory=_ContentUrls)

    @property
    def name(self) -> str:
        """The title as readers see it: spaces, not underscores."""
        if self.titles and self.titles.normalized:
            return self.titles.normalized
        return self.normalizedtitle or self.title.replace("_", " ")


class _MostRead(BaseModel):
    date: str = ""
    articles: list[Article] = Field(default_factory=list)


class _NewsStory(BaseModel):
    story: str = ""
    links: list[Article] = Field(default_factory=list)


class _Feed(BaseModel):
    mostread: _MostRead | None = None
    news: list[_NewsStory] = Field(default_factory=list)


def is_topic(article: Article, *, language: str, day: date) -> bool:
    """False for what is no topic for a reel (see ``_NOT_TOPICS``) and for recent deaths."""
    if article.type == "disambiguation" or article.namespace.id != 0:
        return False
    if _pattern(language).fullmatch(article.name.strip()):
        return False
    died = _LIFESPAN.search(article.description)
    return not (died and int(died.group(1)) >= day.year - 1)


def _plain(story: str) -> str:
    return " ".join(html.unescape(re.sub(r"<!--.*?-->|<[^>]+>", "", story, flags=re.S)).split())


def parse_feed(body: bytes, *, language: str, day: date) -> list[Trend] | None:
    """The topics in one feed answer, most read first; None when it has no most-read list."""
    try:
        feed = _Feed.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise ProviderError("answered malformed JSON", provider=NAME) from None
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise ProviderError(f"answered an unexpected shape (at {where})", provider=NAME) from None
    if feed.mostread is None or not feed.mostread.articles:
        return None
    news: dict[str, list[NewsItem]] = {}
    for story in feed.news:
        headline = _plain(story.story)
        for link in story.links:
            if headline:
                news.setdefault(link.title, []).append(NewsItem(headline, source=NAME))
    articles = sorted(feed.mostread.articles, key=lambda a: (-a.views, a.rank or 0))
    trends: list[Trend] = []
    for article in articles:
        if not is_topic(article, language=language, day=day):
            logger.debug("%s: %r is not a topic; skipped", NAME, article.name)
            continue
        extract = " ".join(article.extract.split())
        if len(extract) > MAX_EXTRACT_CHARS:
            extract = extract[: MAX_EXTRACT_CHARS - 1].rstrip() + "…"
        trends.append(
            Trend(
                title=article.name,
                source=NAME,
                language=language,
                traffic=article.views,
                traffic_label=f"{article.views:,} views",
                extract=extract,
                url=article.content_urls.desktop.page,
                news=tuple(news.get(article.title, ())),
            )
        )
    return trends


class WikipediaTrends:
    """The ``TrendSource`` over Wikipedia's most-read articles; needs no key."""

    name = NAME

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE,
        contact: str | None = None,
        timeout: float = 20.0,
        attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = Policy(NAME, timeout=timeout, attempts=attempts)
        self._base = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": _http.user_agent(contact), "Accept": "application/json"},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def feed_url(self, day: date, language: str) -> str:
        if not _LANGUAGE.fullmatch(language):
            raise ProviderError(f"{language!r} is not a Wikipedia language code", provider=NAME)
        base = self._base.replace("{lang}", language)
        return f"{base}/feed/featured/{day:%Y}/{day:%m}/{day:%d}"

    async def trends(self, day: date, *, language: str) -> list[Trend]:
        # Day D's feed lists D-1's most read; until D-1's page views land it has no list, and
        # a day that has not begun in UTC yet (a time zone east of it) may answer 404.
        yesterday = day - timedelta(days=1)
        for asked in (day, yesterday):
            try:
                body = await _http.get(self._client, self.feed_url(asked, language), provider=NAME)
            except ProviderError as exc:
                if exc.status == 404 and asked != yesterday:
                    logger.info("%s: no feed for %s yet; asking the day before", NAME, asked)
                    continue
                raise
            found = parse_feed(body, language=language, day=day)
            if found is not None:
                if not found:
                    raise ProviderError("the most-read list has no usable topic", provider=NAME)
                return found
            logger.info("%s: no most-read list in the feed for %s yet", NAME, asked)
        raise ProviderError(f"no most-read list for {day} or the day before", provider=NAME)
