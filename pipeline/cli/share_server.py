"""``reelfactory share-server``: the local blob store over HTTP, to try the share pages
without R2. ``/reels/…/<job>/`` is a reel's page, ``/channels/<destination>/`` a channel's."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from ..settings import Settings
from ..share import PAGE
from ..uploads import content_type
from .common import console

ROOT_KEY = web.AppKey("root", Path)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    server = commands.add_parser("share-server", help="serve the local store's share pages")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on")
    server.add_argument("--port", type=int, default=8765, help="port to listen on")
    server.add_argument("--root", type=Path, default=None, help="folder (default: the store's)")
    server.set_defaults(run=run, long_running=True)


async def _file(request: web.Request) -> web.StreamResponse:
    root = request.app[ROOT_KEY]
    relative = request.match_info["path"]
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise web.HTTPNotFound()
    if target.is_dir():
        if not request.path.endswith("/"):
            raise web.HTTPMovedPermanently(f"{request.path}/")
        target = target / PAGE
    hidden = any(part.startswith(".") for part in target.relative_to(root).parts)
    if hidden or not target.is_file():
        raise web.HTTPNotFound()
    response = web.FileResponse(target)
    response.content_type = content_type(target).split(";")[0]
    if target.suffix == ".html":
        response.charset = "utf-8"
    return response


def make_app(root: Path) -> web.Application:
    """The store's folder (``root``) as a static site; a folder answers with its page."""
    app = web.Application()
    app[ROOT_KEY] = root.resolve()
    app.router.add_get("/{path:.*}", _file)
    return app


def pages(root: Path) -> list[str]:
    """The share pages under ``root``, channels first, as paths from the root."""
    found = sorted(root.glob(f"channels/*/{PAGE}")) + sorted(
        root.glob(f"reels/*/*/*/*/{PAGE}"), reverse=True
    )
    return [path.parent.relative_to(root).as_posix() + "/" for path in found]


async def run(args: argparse.Namespace, settings: Settings) -> int:
    root: Path = (args.root or settings.blobs_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    runner = web.AppRunner(make_app(root))
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        base = f"http://{args.host}:{args.port}/"
        console.print(f"serving {root} on {base} (Ctrl-C stops)", highlight=False)
        for page in pages(root)[:20]:
            console.print(f"  {base}{page}", highlight=False)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0
