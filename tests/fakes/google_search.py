"""A fake Google Programmable Search (Custom Search JSON API) plus the image hosts it points at,
served by aiohttp on 127.0.0.1 so the real adapter and fetcher talk real HTTP to it.

    async with FakeGoogleSearch(latency=0.0, download_latency=0.0) as fake:
        fake.base_url        "http://127.0.0.1:<port>": the adapter's base_url
        fake.url(path)       an absolute URL on the fake, e.g. fake.url("/img/720x1280.jpg")
        fake.script(*b)      behaviours for the next search requests, in order, then ok():
                             ok(), status(429, retry_after=0.2, message=...), status(500),
                             hang() (answers when the fake closes), malformed(), bad_schema()
        fake.items           the result items (API-shaped dicts); None: standard_items()
        fake.requests        every request as Logged(path, query, api_key, started, ended);
                             fake.searches() / fake.downloads() filter it; times are monotonic
        fake.latency / fake.download_latency   seconds before a search answers / before
                             any other route answers (each redirect hop too)

Routes:
    GET /customsearch/v1     the search; 403 without an API key (X-goog-api-key header or key=),
                             400 without cx or q, or without safe=active (a public bot asks
                             for SafeSearch). Answers the API's JSON shape.
    GET /img/{w}x{h}.{jpg|png|webp}   a generated image: top half red, bottom half blue as
                             displayed. ?orient=6 stores it rotated with EXIF orientation 6;
                             ?alpha=1 (png/webp) makes the top half transparent.
    GET /huge                streams a JPEG-looking body without a Content-Length, forever
                             (up to 64 MiB); ?lie=1 declares 1 GiB and sends a few bytes.
    GET /page.html           an HTML page.
    GET /bomb.png?side=N     a ~100-byte PNG declaring N x N pixels (default 30000).
    GET /redirect?to=URL     302 to URL (absolute or relative).
    GET /loop?n=K            K redirects in a row, then an image.
    GET /status/{code}       that status; ?retry_after=s adds a Retry-After header.

standard_items(tag) lists, in relevance order: a landscape, a stock-site result, a 720x1280
portrait, its duplicate (same path, other query), a too-small one, a 1080x1920 PNG portrait, an
HTML page, a bomb, a huge one (all three claiming 1080x1920), a redirect to a 900x1600
portrait, and a square. Links carry ``s=<search number>`` so each search gets fresh URLs.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import struct
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from PIL import Image

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
IMAGE_MIMES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class Behaviour:
    kind: str  # ok | status | hang | malformed | bad_schema
    status: int = 200
    retry_after: float | None = None
    message: str = ""


def ok() -> Behaviour:
    return Behaviour("ok")


def status(code: int, retry_after: float | None = None, message: str = "") -> Behaviour:
    return Behaviour("status", code, retry_after, message or f"fake error {code}")


def hang() -> Behaviour:
    return Behaviour("hang")


def malformed() -> Behaviour:
    return Behaviour("malformed")


def bad_schema() -> Behaviour:
    return Behaviour("bad_schema")


@dataclass(slots=True)
class Logged:
    path: str
    query: dict[str, str]
    api_key: str | None
    started: float
    ended: float = 0.0


class FakeGoogleSearch:
    def __init__(self, *, latency: float = 0.0, download_latency: float = 0.0) -> None:
        self.latency = latency
        self.download_latency = download_latency
        self.items: list[dict[str, Any]] | None = None
        self.requests: list[Logged] = []
        self.base_url = ""
        self._behaviours: list[Behaviour] = []
        self._searches = 0
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeGoogleSearch:
        app = web.Application(middlewares=[self._log])
        app.router.add_get("/customsearch/v1", self._search)
        app.router.add_get(r"/img/{w:\d+}x{h:\d+}.{ext:jpg|png|webp}", self._image)
        app.router.add_get("/huge", self._huge)
        app.router.add_get("/page.html", self._page)
        app.router.add_get("/bomb.png", self._bomb)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/loop", self._loop)
        app.router.add_get(r"/status/{code:\d+}", self._status)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, *behaviours: Behaviour) -> None:
        self._behaviours.extend(behaviours)

    def searches(self) -> list[Logged]:
        return [r for r in self.requests if r.path == "/customsearch/v1"]

    def downloads(self) -> list[Logged]:
        return [r for r in self.requests if r.path != "/customsearch/v1"]

    def standard_items(self, tag: int = 0) -> list[dict[str, Any]]:
        s = f"s={tag}"
        return [
            item(self.url(f"/img/1600x900.jpg?{s}"), 1600, 900),
            item(self.url(f"/img/800x1400.jpg?{s}&stock=1"), 800, 1400, "www.shutterstock.com"),
            item(self.url(f"/img/720x1280.jpg?{s}"), 720, 1280),
            item(self.url(f"/img/720x1280.jpg?{s}&dup=1"), 720, 1280),
            item(self.url(f"/img/400x600.jpg?{s}"), 400, 600),
            item(self.url(f"/img/1080x1920.png?{s}"), 1080, 1920, mime="image/png"),
            item(self.url(f"/page.html?{s}"), 1080, 1920),
            item(self.url(f"/bomb.png?{s}"), 1080, 1920, mime="image/png"),
            item(self.url(f"/huge?{s}"), 1080, 1920),
            item(self.url(f"/redirect?to=/img/900x1600.jpg%3F{s}"), 900, 1600),
            item(self.url(f"/img/1000x1000.jpg?{s}"), 1000, 1000),
        ]

    @web.middleware
    async def _log(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("X-goog-api-key") or request.query.get("key")
        entry = Logged(request.path, dict(request.query), key, time.monotonic())
        self.requests.append(entry)
        try:
            if request.path != "/customsearch/v1" and self.download_latency:
                await asyncio.sleep(self.download_latency)
            return await handler(request)
        finally:
            entry.ended = time.monotonic()

    async def _search(self, request: web.Request) -> web.StreamResponse:
        self._searches += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        behaviour = self._behaviours.pop(0) if self._behaviours else ok()
        if not (request.headers.get("X-goog-api-key") or request.query.get("key")):
            return error(403, "Method doesn't allow unregistered callers", "PERMISSION_DENIED")
        if not (request.query.get("cx") and request.query.get("q")):
            return error(400, "Request contains an invalid argument.", "INVALID_ARGUMENT")
        if request.query.get("safe") != "active":
            # Not Google's rule but ours: a public bot must ask for SafeSearch (issue 13).
            return error(400, "the fake requires safe=active (SafeSearch)", "INVALID_ARGUMENT")
        if behaviour.kind == "status":
            response = error(behaviour.status, behaviour.message, "RESOURCE_EXHAUSTED")
            if behaviour.retry_after is not None:
                response.headers["Retry-After"] = f"{behaviour.retry_after:g}"
            return response
        if behaviour.kind == "hang":
            await self._closing.wait()
        if behaviour.kind == "malformed":
            return web.Response(text='{"items": [{"link": ', content_type="application/json")
        if behaviour.kind == "bad_schema":
            body = {"kind": "customsearch#search", "items": [{"title": "x", "image": "wide"}]}
            return web.json_response(body)
        items = self.items if self.items is not None else self.standard_items(self._searches)
        query = request.query["q"]
        return web.json_response(
            {
                "kind": "customsearch#search",
                "queries": {"request": [{"searchTerms": query, "count": len(items)}]},
                "searchInformation": {"totalResults": str(len(items))},
                "items": items,
            }
        )

    async def _image(self, request: web.Request) -> web.StreamResponse:
        width, height = int(request.match_info["w"]), int(request.match_info["h"])
        ext = request.match_info["ext"]
        orient = int(request.query.get("orient", "1"))
        alpha = request.query.get("alpha") == "1"
        body = image_bytes(width, height, ext, orient, alpha)
        return web.Response(body=body, content_type=IMAGE_MIMES[ext])

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        if request.query.get("lie") == "1":
            response.content_length = 1 << 30
        await response.prepare(request)
        chunk = b"\xff\xd8\xff\xe0" + bytes(64 * 1024 - 4)
        try:
            for _ in range(1024):
                await response.write(chunk)
                if request.query.get("lie") == "1":
                    break
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(
            text="<!doctype html><title>Not an image</title>" * 20, content_type="text/html"
        )

    async def _bomb(self, request: web.Request) -> web.StreamResponse:
        side = int(request.query.get("side", "30000"))
        return web.Response(body=png_header_only(side, side), content_type="image/png")

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["to"])

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        left = int(request.query.get("n", "0"))
        if left > 0:
            raise web.HTTPFound(f"/loop?n={left - 1}")
        return web.Response(body=image_bytes(720, 1280, "jpg"), content_type="image/jpeg")

    async def _status(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(status=int(request.match_info["code"]), text="no")
        if "retry_after" in request.query:
            response.headers["Retry-After"] = request.query["retry_after"]
        return response


def item(
    link: str, width: int, height: int, display: str = "example.org", mime: str = "image/jpeg"
) -> dict[str, Any]:
    """One result in the Custom Search JSON API's shape."""
    return {
        "kind": "customsearch#result",
        "title": f"{width}x{height}",
        "link": link,
        "displayLink": display,
        "mime": mime,
        "fileFormat": mime,
        "image": {
            "contextLink": f"https://{display}/page",
            "width": width,
            "height": height,
            "byteSize": width * height // 10,
            "thumbnailLink": "https://encrypted-tbn0.gstatic.com/images?q=tbn:fake",
            "thumbnailWidth": 90,
            "thumbnailHeight": 160,
        },
    }


def error(code: int, message: str, reason: str) -> web.Response:
    body = {"error": {"code": code, "message": message, "status": reason}}
    return web.Response(status=code, text=json.dumps(body), content_type="application/json")


@functools.lru_cache(maxsize=64)
def image_bytes(width: int, height: int, ext: str, orient: int = 1, alpha: bool = False) -> bytes:
    """Top half red, bottom half blue, as displayed after the EXIF orientation is applied."""
    mode = "RGBA" if alpha else "RGB"
    image = Image.new(mode, (width, height), (0, 0, 255, 255))
    image.paste((0, 0, 0, 0) if alpha else (255, 0, 0), (0, 0, width, height // 2))
    exif = Image.Exif()
    if orient == 6:  # shown after a 90° clockwise turn: store it turned the other way
        image = image.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6
    out = io.BytesIO()
    fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[ext]
    if fmt == "JPEG":
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid-looking 1-bit PNG that declares ``width`` x ``height`` but carries no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )
