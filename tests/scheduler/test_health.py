"""``serve``'s /healthz and /metrics (REELFACTORY_HTTP_PORT): healthy only while both fronts are
connected and the scheduler runs; unhealthy while Telegram's getUpdates fails and again after;
a Discord gateway drop is seen and the resume too; a front that dies is alerted. /metrics
parses as Prometheus text and has the figures of the jobs this test made."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import serve
from bot.health import Health
from pipeline.alerts import Alerter, Cause, Kind
from pipeline.app import App
from pipeline.settings import Settings
from storage import AlertRepository, JobRecord, JobRepository, StageRunRepository
from tests.fakes.discord import pointed_at
from tests.fakes.telegram import TgUser

from .conftest import TG_ADMIN, Daily
from .test_serve import configured

pytestmark = pytest.mark.slow
PARTS = {"discord", "scheduler", "telegram"}


def with_http(settings: Settings, daily: Daily) -> Settings:
    # The daily time three hours ahead: nothing runs, yet there is a next run.
    config = configured(settings, daily, datetime.now(UTC) + timedelta(hours=3))
    return config.model_copy(
        update={"http_port": 0, "http_host": "127.0.0.1", "admins": [f"telegram:{TG_ADMIN}"]}
    )


@asynccontextmanager
async def serving(config: Settings, daily: Daily, health: Health) -> AsyncIterator[asyncio.Task]:  # type: ignore[type-arg]
    stop = asyncio.Event()
    with pointed_at(daily.dc):
        task = asyncio.create_task(serve(config, stop=stop, handle_signals=False, health=health))
        try:
            async with asyncio.timeout(30):
                while health.url is None:
                    assert not task.done(), task.exception()
                    await asyncio.sleep(0.02)
            yield task
        finally:
            stop.set()
            await asyncio.wait([task], timeout=30)


async def status_becomes(
    http: aiohttp.ClientSession, health: Health, status: int, timeout: float = 20
) -> dict[str, Any]:
    """Poll /healthz until it answers ``status``; its JSON."""
    async with asyncio.timeout(timeout):
        while True:
            assert health.url is not None
            async with http.get(f"{health.url}/healthz") as response:
                body: dict[str, Any] = await response.json()
                if response.status == status:
                    return body
            await asyncio.sleep(0.05)


async def test_healthz_follows_the_connections(settings: Settings, daily: Daily) -> None:
    health = Health()
    config = with_http(settings, daily)
    async with serving(config, daily, health) as task, aiohttp.ClientSession() as http:
        body = await status_becomes(http, health, 200)
        assert body["status"] == "ok" and set(body["parts"]) == PARTS
        assert all(part["up"] for part in body["parts"].values())
        assert body["queue"] == {"rendering": 0, "length": 0}
        assert body["daily"]["last"] is None
        next_run = datetime.fromisoformat(body["daily"]["next"])
        assert timedelta(hours=2) < next_run - datetime.now(UTC) < timedelta(hours=4)

        # Telegram's connection is lost: getUpdates fails twice (aiogram backs off a second
        # or more between tries); a user's message ends the long poll in flight.
        daily.tg.fail("getUpdates", code=502, times=2)
        daily.tg.send_text(TgUser(77, "Bea"), "/help")
        body = await status_becomes(http, health, 503)
        assert body["status"] == "unhealthy"
        assert body["parts"]["telegram"] == {
            "up": False,
            "since": body["parts"]["telegram"]["since"],
            "reason": "getUpdates failed: TelegramServerError",
        }
        assert body["parts"]["discord"]["up"] and body["parts"]["scheduler"]["up"]
        # ... and back once getUpdates answers again.
        body = await status_becomes(http, health, 200)
        assert body["parts"]["telegram"]["up"]

        # Discord's gateway drops and the bot resumes: seen going down, then up again.
        connected_since = health.parts["discord"].since
        await daily.dc.reconnect()
        async with asyncio.timeout(10):
            while health.parts["discord"].since == connected_since or not health.healthy:
                await asyncio.sleep(0.02)
        assert (await status_becomes(http, health, 200))["parts"]["discord"]["up"]

        # A front that ends (the gateway refuses the token: close code 4004) stops serve, is
        # unhealthy with why, and the admins hear of it on the other platform.
        for connection in list(daily.dc.gateway._live):
            await connection.ws.close(code=4004)
        done, _ = await asyncio.wait([task], timeout=30)
        assert done and isinstance(task.exception(), BaseExceptionGroup)
    assert not health.healthy
    assert health.parts["discord"].reason == "ConnectionClosed"
    assert health.parts["telegram"].reason == "stopped"
    assert health.parts["scheduler"].reason == "stopped"
    dms = daily.telegram_dms()
    assert len(dms) == 1 and "a front cannot connect" in dms[0] and "discord" in dms[0]


async def add_job(app: App, state: str, runs: list[tuple[str, int, str]]) -> None:
    job = JobRecord(id=JobRepository.new_id(), state=state, language="en", style="s", work_dir="w")
    await app.jobs.create(job)
    stage_runs = StageRunRepository(app.db)
    for stage, millis, outcome in runs:
        run = await stage_runs.start(job.id, stage, datetime.now(UTC))
        await stage_runs.finish(run, outcome=outcome, duration_ms=millis, provider="p", attempts=1)


class Notes:
    async def send(self, admin: str, text: str) -> None:
        pass


async def test_metrics_have_the_jobs_made(settings: Settings, daily: Daily) -> None:
    config = with_http(settings, daily)
    async with await App.open(config) as app:
        await add_job(app, "delivered", [("script", 1500, "ok"), ("render", 12000, "ok")])
        await add_job(app, "delivered", [("script", 700, "ok"), ("render", 40000, "ok")])
        await add_job(app, "failed", [("script", 9000, "failed")])
        await add_job(app, "queued", [("script", 400, "ok")])
        alerter = Alerter(AlertRepository(app.db), Notes(), ["telegram:1"])
        cause = Cause(Kind.JOB_FAILED, "script", "chain", "ProviderUnavailable")
        await alerter.report(cause)  # sent
        await alerter.report(cause)  # muted: within the repeat window
    health = Health()
    async with serving(config, daily, health), aiohttp.ClientSession() as http:
        await status_becomes(http, health, 200)
        async with http.get(f"{health.url}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=")
            text = await response.text()
    families = {family.name: family for family in text_string_to_metric_families(text)}

    def value(name: str, sample: str | None = None, **labels: str) -> float:
        for found in families[name].samples:
            if found.name == (sample or name) and found.labels == labels:
                return found.value
        raise AssertionError(f"no {sample or name} {labels} in\n{text}")

    assert value("reelfactory_jobs", state="delivered") == 2
    assert value("reelfactory_jobs", state="failed") == 1
    assert value("reelfactory_jobs", state="cancelled") == 0
    assert value("reelfactory_queue_length") == 1
    assert value("reelfactory_rendering") == 0
    assert value("reelfactory_up", part="telegram") == 1
    assert value("reelfactory_up", part="scheduler") == 1
    runs = "reelfactory_stage_runs"
    assert value(runs, f"{runs}_total", stage="script", outcome="ok") == 3
    assert value(runs, f"{runs}_total", stage="script", outcome="failed") == 1
    hist = "reelfactory_stage_duration_seconds"
    assert value(hist, f"{hist}_count", stage="render") == 2
    assert value(hist, f"{hist}_sum", stage="render") == pytest.approx(52.0)
    assert value(hist, f"{hist}_bucket", stage="render", le="20.0") == 1
    assert value(hist, f"{hist}_bucket", stage="render", le="+Inf") == 2
    assert value(hist, f"{hist}_bucket", stage="script", le="1.0") == 2
    alerts = "reelfactory_alerts"
    assert value(alerts, f"{alerts}_total", action="sent") == 1
    assert value(alerts, f"{alerts}_total", action="muted") == 1
    assert value("reelfactory_daily_next_run_timestamp_seconds") > datetime.now(UTC).timestamp()
