"""A fake Wikimedia REST API serving the featured feed on 127.0.0.1, in the real layout.

    async with FakeWikipedia() as fake:
        fake.base_url      "http://127.0.0.1:<port>/{lang}/api/rest_v1" (``{lang}`` left for
                           the adapter to fill, like the real default base)
        fake.feeds[(lang, date)] = {...}   the body for that feed; default: standard_feed()
        fake.script(*b)    behaviours for the next feed requests, then ok(): status(429,
                           retry_after=…), status(500), hang(), malformed(), bad_schema(),
                           empty() (a feed without ``mostread``, as for a day whose page views
                           have not landed)
        fake.requests      every request as Logged(path, query, user_agent, answered)

Route: ``GET /{lang}/api/rest_v1/feed/featured/{yyyy}/{mm}/{dd}``. Like Wikimedia, a missing or
generic User-Agent (``python-httpx/…``, ``python-requests/…``) gets 403.

The feed for day D carries the most-read list of D-1 (``mostread.date`` says so). Its articles
are page summaries plus ``views``, ``rank`` and ``view_history``, like the real
``mostread_article``; ``news`` stories link the articles they are about.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from .trends_common import Behaviour, Logged, Script

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
GENERIC_AGENT = re.compile(r"^(python-httpx|python-requests|curl|Wget)/|^$", re.IGNORECASE)


def article(
    title: str,
    views: int,
    rank: int,
    *,
    lang: str = "en",
    description: str = "",
    extract: str = "",
    kind: str = "standard",
    namespace: int = 0,
    day: date = date(2026, 8, 17),
) -> dict[str, Any]:
    """One ``mostread_article``: a page summary plus views, rank and a 5-day view history."""
    normalized = title.replace("_", " ")
    page = f"https://{lang}.wikipedia.org/wiki/{title}"
    mobile = f"https://{lang}.m.wikipedia.org/wiki/{title}"
    return {
        "views": views,
        "rank": rank,
        "view_history": [
            {"date": f"{day - timedelta(days=back)}Z", "views": max(1, views - back * 1000)}
            for back in range(4, -1, -1)
        ],
        "type": kind,
        "title": title,
        "displaytitle": f'<span class="mw-page-title-main">{normalized}</span>',
        "namespace": {"id": namespace, "text": ""},
        "wikibase_item": f"Q{zlib.crc32(title.encode()) % 10_000_000}",
        "titles": {
            "canonical": title,
            "normalized": normalized,
            "display": f'<span class="mw-page-title-main">{normalized}</span>',
        },
        "pageid": zlib.crc32(title.encode()) % 90_000_000,
        "thumbnail": {
            "source": f"https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/{title}.jpg/"
            f"320px-{title}.jpg",
            "width": 320,
            "height": 213,
        },
        "lang": lang,
        "dir": "ltr",
        "revision": "1240000000",
        "tid": "4a6e2d10-5c0b-11ef-9f6e-0b1c2d3e4f50",
        "timestamp": f"{day}T11:22:33Z",
        "description": description,
        "description_source": "local",
        "content_urls": {
            "desktop": {
                "page": page,
                "revisions": f"{page}?action=history",
                "edit": f"{page}?action=edit",
                "talk": f"https://{lang}.wikipedia.org/wiki/Talk:{title}",
            },
            "mobile": {
                "page": mobile,
                "revisions": f"https://{lang}.m.wikipedia.org/wiki/Special:History/{title}",
                "edit": f"{mobile}?action=edit",
                "talk": f"https://{lang}.m.wikipedia.org/wiki/Talk:{title}",
            },
        },
        "extract": extract,
        "extract_html": f"<p>{extract}</p>",
        "normalizedtitle": normalized,
    }


def standard_articles(lang: str, day: date) -> list[dict[str, Any]]:
    """A most-read list with real-life noise: non-topics among four real topics. By views:
    Deaths_in_2026 (a calendar list), Comet Atlas (a topic), Mercury (a disambiguation page),
    Jane Doe (died this year), Perseids (topic), List_of_… (a list), Special:Search (should the
    server let one through), Octopus (topic), Main_Page, 2026 (a year), Tour de France (topic).
    Russian has its own titles for the list pages."""
    year = day.year
    deaths = "Deaths_in_2026" if lang == "en" else "Умершие_в_2026_году"
    listing = "List_of_meteor_showers" if lang == "en" else "Список_метеорных_потоков"
    main = "Main_Page" if lang == "en" else "Заглавная_страница"
    return [
        article(deaths, 410_000, 3, lang=lang, description="", day=day),
        article(
            "Comet_Atlas",
            350_000,
            4,
            lang=lang,
            description="Non-periodic comet",
            extract="Comet Atlas is a comet that brightened unexpectedly in August.",
            day=day,
        ),
        article("Mercury", 300_000, 5, lang=lang, kind="disambiguation", day=day),
        article(
            "Jane_Doe_(actress)",
            290_000,
            6,
            lang=lang,
            description=f"American actress (1948–{year})",
            extract="Jane Doe was an American actress.",
            day=day,
        ),
        article(
            "Perseids",
            250_000,
            7,
            lang=lang,
            description="Meteor shower associated with the comet Swift–Tuttle",
            extract="The Perseids are a prolific meteor shower.",
            day=day,
        ),
        article(listing, 200_000, 8, lang=lang, day=day),
        article("Special:Search", 180_000, 9, lang=lang, namespace=-1, day=day),
        article(
            "Octopus",
            150_000,
            11,
            lang=lang,
            description="Soft-bodied eight-limbed mollusc",
            extract="An octopus is a soft-bodied, eight-limbed mollusc.",
            day=day,
        ),
        article(main, 140_000, 12, lang=lang, day=day),
        article(str(year), 120_000, 14, lang=lang, day=day),
        article(
            "Tour_de_France",
            100_000,
            16,
            lang=lang,
            description="Annual men's multiple-stage bicycle race",
            extract="The Tour de France is an annual men's multiple-stage bicycle race.",
            day=day,
        ),
    ]


def standard_feed(lang: str, day: date) -> dict[str, Any]:
    """The aggregated feed for ``day``: ``mostread`` for the day before, plus a news story
    linking Comet Atlas (historic feeds omit ``news``; this one keeps it for the context)."""
    listed = day - timedelta(days=1)
    articles = standard_articles(lang, listed)
    comet = next(a for a in articles if a["title"] == "Comet_Atlas")
    return {
        "tfa": article("Featured_article", 1, 1, lang=lang, day=listed),
        "mostread": {"date": f"{listed}Z", "articles": articles},
        "news": [
            {
                "links": [comet],
                "story": '<!--Aug 16-->Astronomers report that <b><a rel="mw:WikiLink" '
                'href="./Comet_Atlas">Comet Atlas</a></b> has become visible to the naked '
                "eye &amp; may outshine Venus.",
            }
        ],
        "onthisday": [],
    }


class FakeWikipedia:
    def __init__(self) -> None:
        self.feeds: dict[tuple[str, date], dict[str, Any]] = {}
        self.requests: list[Logged] = []
        self.base_url = ""
        self._script = Script()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeWikipedia:
        app = web.Application()
        app.router.add_get(
            r"/{lang}/api/rest_v1/feed/featured/{y:\d{4}}/{m:\d{2}}/{d:\d{2}}", self._feed
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/{{lang}}/api/rest_v1"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def script(self, *behaviours: Behaviour) -> None:
        self._script.behaviours.extend(behaviours)

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        agent = request.headers.get("User-Agent", "")
        entry = Logged(request.path, dict(request.query), agent)
        self.requests.append(entry)
        response = await self._answer(request, agent)
        entry.answered = response.status
        return response

    async def _answer(self, request: web.Request, agent: str) -> web.StreamResponse:
        if GENERIC_AGENT.search(agent):
            return web.json_response(
                {
                    "type": "https://mediawiki.org/wiki/HyperSwitch/errors/forbidden",
                    "title": "Forbidden",
                    "detail": "Please set a user-agent and respect our robot policy "
                    "https://w.wiki/4wJS.",
                },
                status=403,
            )
        behaviour = self._script.next()
        info = request.match_info
        lang = info["lang"]
        day = date(int(info["y"]), int(info["m"]), int(info["d"]))
        if behaviour.kind == "status":
            headers = {}
            if behaviour.retry_after is not None:
                headers["Retry-After"] = f"{behaviour.retry_after:g}"
            body = {"type": "about:blank", "title": "Error", "status": behaviour.status}
            return web.json_response(body, status=behaviour.status, headers=headers)
        if behaviour.kind == "hang":
            await self._closing.wait()
        if behaviour.kind == "malformed":
            return web.Response(
                text='{"mostread": {"date": "2026-08-16Z", "articles": [{"views": ',
                content_type="application/json",
            )
        if behaviour.kind == "bad_schema":
            return web.json_response({"mostread": {"articles": [{"title": 7, "views": "many"}]}})
        if behaviour.kind == "empty":
            return web.json_response({"tfa": article("Featured_article", 1, 1, lang=lang)})
        return web.json_response(self.feeds.get((lang, day)) or standard_feed(lang, day))
