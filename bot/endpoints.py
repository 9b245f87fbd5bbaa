"""``GET /healthz`` and ``GET /metrics`` of ``serve``, on ``REELFACTORY_HTTP_PORT`` (off unless
set), served by aiohttp inside the bot's loop.

``/healthz`` answers 200 only while every front is connected and the scheduler runs, else 503;
its JSON gives each part's state, the queue and the last and next daily run. ``/metrics`` is
Prometheus text (``bot.metrics``), read from the database when scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from pipeline.app import App
from pipeline.lag import LoopLag

from .health import Health
from .metrics import exposition, queue_length, snapshot

logger = logging.getLogger(__name__)

Moment = Callable[[], datetime | None]


def _none() -> datetime | None:
    return None


class Endpoints:
    def __init__(
        self,
        app: App,
        health: Health,
        *,
        host: str,
        port: int,
        last_daily: Moment = _none,
        next_daily: Moment = _none,
    ) -> None:
        self.app = app
        self.health = health
        self.host, self.port = host, port
        self.last_daily, self.next_daily = last_daily, next_daily
        self._runner: web.AppRunner | None = None
        self.lag = LoopLag()  # the event loop's lag, on /metrics

    async def __aenter__(self) -> Endpoints:
        web_app = web.Application()
        web_app.router.add_get("/healthz", self.healthz)
        web_app.router.add_get("/metrics", self.metrics)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.lag.start()
        host, port = runner.addresses[0][:2]
        self.health.url = f"http://{host}:{port}"
        logger.info("health and metrics on %s (/healthz, /metrics)", self.health.url)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.lag.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.health.url = None

    async def healthz(self, request: web.Request) -> web.Response:
        healthy = self.health.healthy
        body: dict[str, Any] = {
            "status": "ok" if healthy else "unhealthy",
            "parts": self.health.describe(),
            "queue": {"rendering": len(self.app.queue.running)},
            "daily": {"last": _iso(self.last_daily()), "next": _iso(self.next_daily())},
        }
        try:
            body["queue"]["length"] = await queue_length(self.app)
        except Exception as exc:  # the database is part of being healthy
            logger.warning("healthz: the database did not answer: %s", exc)
            body["status"], healthy = "unhealthy", False
            body["database"] = type(exc).__name__
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        snap = await snapshot(
            self.app,
            self.health,
            last_daily=self.last_daily(),
            next_daily=self.next_daily(),
            lag=self.lag,
        )
        response = web.Response(body=exposition(snap))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


__all__ = ["Endpoints"]
