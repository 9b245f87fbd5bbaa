"""A fake Google Trends daily RSS on 127.0.0.1, in the live feed's item layout.

    async with FakeGoogleTrends() as fake:
        fake.base_url    "http://127.0.0.1:<port>/trending/rss"
        fake.items[geo] = [TrendItem(...), ...]   default: standard_items(geo)
        fake.script(*b)  behaviours for the next requests, then ok(): status(429, retry_after=…),
                         status(500), hang(), malformed(), bad_schema() (an Atom document, not
                         RSS), empty() (a channel with no item)
        fake.requests    every request as Logged(path, query, user_agent, answered)

Routes: ``GET /trending/rss?geo=XX`` answers ``text/xml; charset=utf-8``, the items in the
``ht:`` namespace (``ht:approx_traffic``, ``ht:picture``, 0-3 ``ht:news_item`` with title,
snippet, url, picture and source), ``<description/>`` empty and ``<link>`` the feed's own URL,
as live. Without ``geo`` it answers 400. The retired ``/trends/trendingsearches/daily/rss``
answers 404, as live.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aiohttp import web

from .trends_common import Behaviour, Logged, Script

HT = "https://trends.google.com/trending/rss"


@dataclass(frozen=True, slots=True)
class News:
    title: str
    url: str
    source: str
    picture: str = ""


@dataclass(frozen=True, slots=True)
class TrendItem:
    title: str
    traffic: str = "1000+"
    news: tuple[News, ...] = ()
    picture: bool = True
    pub_date: str = "Tue, 11 Aug 2026 05:30:00 -0700"


def standard_items(geo: str) -> list[TrendItem]:
    return [
        TrendItem(
            "epic",
            "1000+",
            (
                News(
                    "Following Epic loss, Google has started hosting rival app stores",
                    "https://arstechnica.com/some-article",
                    "Ars Technica",
                    "https://encrypted-tbn0.gstatic.com/images?q=def",
                ),
                News(
                    "Epic v. Google: what the ruling means for Android",
                    "https://www.theverge.com/epic-google-ruling",
                    "The Verge",
                ),
            ),
        ),
        TrendItem(
            "perseid meteor shower",
            "200+",
            (
                News(
                    "Perseids peak tonight: how to watch",
                    "https://www.space.com/perseids-2026",
                    "Space.com",
                ),
            ),
            picture=False,
        ),
        TrendItem("octopus", "100+"),
    ]


def render_rss(geo: str, items: list[TrendItem], base: str) -> str:
    link = f"{base}?geo={geo}"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:ht="{HT}" version="2.0">',
        "<channel>",
        "<title>Daily Search Trends</title>",
        "<description>Recent searches</description>",
        f"<link>{escape(link)}</link>",
        f'<atom:link href="{escape(link)}" rel="self" type="application/rss+xml"/>',
    ]
    for item in items:
        parts += [
            "<item>",
            f" <title>{escape(item.title)}</title>",
            f" <ht:approx_traffic>{escape(item.traffic)}</ht:approx_traffic>",
            " <description/>",
            f" <link>{escape(link)}</link>",
            f" <pubDate>{item.pub_date}</pubDate>",
        ]
        if item.picture:
            parts += [
                " <ht:picture>https://encrypted-tbn0.gstatic.com/images?q=abc</ht:picture>",
                f" <ht:picture_source>{escape(item.news[0].source if item.news else 'Web')}"
                "</ht:picture_source>",
            ]
        for news in item.news:
            parts += [
                " <ht:news_item>",
                f"  <ht:news_item_title>{escape(news.title)}</ht:news_item_title>",
                "  <ht:news_item_snippet/>",
                f"  <ht:news_item_url>{escape(news.url)}</ht:news_item_url>",
                f"  <ht:news_item_picture>{escape(news.picture)}</ht:news_item_picture>",
                f"  <ht:news_item_source>{escape(news.source)}</ht:news_item_source>",
                " </ht:news_item>",
            ]
        parts.append("</item>")
    parts += ["</channel>", "</rss>"]
    return "\n".join(parts)


class FakeGoogleTrends:
    def __init__(self) -> None:
        self.items: dict[str, list[TrendItem]] = {}
        self.requests: list[Logged] = []
        self.base_url = ""
        self._script = Script()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeGoogleTrends:
        app = web.Application()
        app.router.add_get("/trending/rss", self._rss)
        app.router.add_get("/trends/trendingsearches/daily/rss", self._retired)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/trending/rss"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def script(self, *behaviours: Behaviour) -> None:
        self._script.behaviours.extend(behaviours)

    async def _retired(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=404, text="<html><title>Error 404 (Not Found)</title></html>")

    async def _rss(self, request: web.Request) -> web.StreamResponse:
        entry = Logged(request.path, dict(request.query), request.headers.get("User-Agent", ""))
        self.requests.append(entry)
        response = await self._answer(request)
        entry.answered = response.status
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        geo = request.query.get("geo", "")
        if not geo:
            return web.Response(status=400, text="geo is required")
        behaviour = self._script.next()
        if behaviour.kind == "status":
            headers = {}
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            return web.Response(status=behaviour.status, text="Too many requests", headers=headers)
        if behaviour.kind == "hang":
            await self._closing.wait()
        if behaviour.kind == "malformed":
            body = render_rss(geo, standard_items(geo), self.base_url)
            return xml(body[: len(body) // 2])
        if behaviour.kind == "bad_schema":
            return xml(
                '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
                "<title>Not RSS</title></feed>"
            )
        items = [] if behaviour.kind == "empty" else self.items.get(geo, standard_items(geo))
        return xml(render_rss(geo, items, self.base_url))


def xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml", charset="utf-8")
