"""Chat fronts, thin: parse input, call the studio, present results.

``serve`` builds one ``App`` and one ``Studio`` and runs every front that has a token in one
event loop (Telegram, Discord; the scheduler joins here), so per-job locks, limits and the
render queue are shared. It runs until SIGINT or SIGTERM (or ``stop``); a front that ends on
its own (a refused token) stops the others. Front libraries are imported only when serving,
so ``bot.presenters`` stays cheap to import.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Protocol

from pipeline.settings import Settings

from .health import STOPPED, Health
from .tasks import until_stopped

if TYPE_CHECKING:
    from pipeline.alerts import Alerter
    from pipeline.app import App
    from pipeline.providers import Providers
    from pipeline.retired import ModelCheck
    from pipeline.studio import Studio
    from scheduler import Scheduler

logger = logging.getLogger(__name__)

TOKENS = {
    "telegram": "REELFACTORY_TELEGRAM_BOT_TOKEN",
    "discord": "REELFACTORY_DISCORD_BOT_TOKEN",
}


class MissingSettings(Exception):
    """Serving needs settings that are not there; the message names them."""


class Front(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


def configured_fronts(settings: Settings) -> list[str]:
    fronts = []
    if settings.telegram.bot_token is not None:
        fronts.append("telegram")
    if settings.discord.bot_token is not None:
        fronts.append("discord")
    return fronts


def missing_settings(settings: Settings) -> list[str]:
    """The settings to set when no front is configured; empty when one is."""
    return [] if configured_fronts(settings) else list(TOKENS.values())


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    health: Health | None = None,
) -> None:
    """Run every configured front and the scheduler until ``stop`` (or a signal). ``health``
    is where the parts report; with ``REELFACTORY_HTTP_PORT`` it is served on /healthz."""
    from pipeline.memory import return_freed_memory

    return_freed_memory()  # a long-running process: freed pictures go back to the system
    names = configured_fronts(settings)
    if not names:
        raise MissingSettings(
            f"serve needs at least one of {' or '.join(TOKENS.values())} (a bot token from "
            "Telegram's @BotFather or the Discord developer portal)"
        )
    from pipeline.app import App
    from pipeline.providers import build
    from pipeline.retired import alert_gone
    from pipeline.studio import Studio

    health = health or Health()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for number in signals:
        loop.add_signal_handler(number, _stopper(stop, number))
    try:
        providers = build(settings)
        try:
            app = await App.open(settings, providers)
        except BaseException:
            await providers.aclose()
            raise
        async with app, AsyncExitStack() as stack:
            retired = await _retire(settings, providers)
            studio = Studio(app)
            try:
                fronts = [_front(name, app, studio, health) for name in names]
                scheduler = _scheduler(fronts, app, studio, health)
                fronts.append(scheduler)
                if settings.http_port is not None:
                    from .endpoints import Endpoints

                    await stack.enter_async_context(
                        Endpoints(
                            app,
                            health,
                            host=settings.http_host,
                            port=settings.http_port,
                            last_daily=lambda: scheduler.last_daily,
                            next_daily=scheduler.next_run,
                        )
                    )
            except Exception as exc:
                await _startup_failed(studio, exc)
                raise
            logger.info("serving %s with providers %s", ", ".join(names), providers.describe())
            alerter = studio.alerter
            announce = None
            if retired is not None and retired.gone and alerter is not None:
                announce = _after_ready(scheduler, stop, alert_gone(alerter, retired))
            await _run_all(fronts, stop, alerter, health, announce)
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


async def _startup_failed(studio: Studio, exc: Exception) -> None:
    """Tell the admins why serve could not start, over REST (no front is running yet)."""
    from pipeline.alerts import Alerter, Cause, Kind
    from storage import AlertRepository

    from .channels import rest_clients

    app = studio.app
    try:
        async with rest_clients(app.settings, studio) as clients:
            alerter = Alerter.from_settings(
                app.settings, AlertRepository(app.db), clients.notifiers
            )
            await alerter.report(Cause.of(Kind.STARTUP, exc), message=str(exc))
    except Exception:
        logger.exception("could not alert the admins that start-up failed")


async def _retire(settings: Settings, providers: Providers) -> ModelCheck | None:
    """Skip the models the providers no longer serve; never stops serving."""
    from pipeline.retired import retire

    try:
        return await retire(settings, providers, timeout=min(settings.provider_timeout, 10.0))
    except Exception:
        logger.exception("models: the check of the providers' model lists failed")
        return None


async def _after_ready(
    scheduler: Scheduler, stop: asyncio.Event, work: Coroutine[object, object, None]
) -> None:
    """``work`` once the fronts can send (Discord has logged in), unless serve stops first."""
    from scheduler.service import READY_TIMEOUT

    async def ready_then_work() -> None:
        for ready in scheduler.ready:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready(), READY_TIMEOUT)
        await work

    task = asyncio.create_task(ready_then_work(), name="after-the-fronts-are-ready")
    try:
        await until_stopped(task, stop)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _front(name: str, app: App, studio: Studio, health: Health) -> Front:
    """The front, watched for health through its library's hooks (``bot.health``)."""
    from .health import watch_discord, watch_telegram

    if name == "telegram":
        from bot.telegram import TelegramFront

        telegram = TelegramFront(app, studio=studio)
        watch_telegram(telegram.bot, health)
        return telegram
    from bot.discord import DiscordFront

    discord = DiscordFront(app, studio=studio)
    watch_discord(discord.bot, health)
    return discord


def _scheduler(fronts: list[Front], app: App, studio: Studio, health: Health) -> Scheduler:
    """The scheduler, posting and alerting through the fronts' own clients; also gives the
    studio its alerter, so a failed job anywhere reaches the admins."""
    from bot.channels import Clients, discord_dm, telegram_dm
    from bot.discord import DiscordFront
    from bot.telegram import TelegramFront
    from pipeline.alerts import Alerter
    from pipeline.workers import alert_failed_renders
    from scheduler import Scheduler
    from storage import AlertRepository

    clients = Clients()
    ready = []
    for front in fronts:
        if isinstance(front, TelegramFront):
            clients.posters.add("telegram", front.reels.post_to)
            clients.notifiers.add("telegram", telegram_dm(front.bot))
        elif isinstance(front, DiscordFront):
            clients.posters.add("discord", front.bot.reels.post_to)
            clients.notifiers.add("discord", discord_dm(front.bot))
            ready.append(front.bot.ready_once.wait)
    if app.settings.youtube_configured:
        from bot.youtube import youtube_poster

        clients.posters.add("youtube", youtube_poster(studio))
    alerter = Alerter.from_settings(app.settings, AlertRepository(app.db), clients.notifiers)
    studio.alerter = alerter
    alert_failed_renders(app.queue, alerter)  # a render failed on every worker attempt
    return Scheduler(studio, clients.posters, alerter=alerter, ready=ready, health=health)


async def _run_all(
    fronts: list[Front],
    stop: asyncio.Event,
    alerter: Alerter | None = None,
    health: Health | None = None,
    beside: Coroutine[object, object, None] | None = None,
) -> None:
    """Run the fronts side by side until ``stop``; one that fails stops the others, which
    still shut down cleanly, its error is raised, and the admins hear of it. A front that
    does not report its health itself counts as up from the start of its run to its end."""

    async def guarded(front: Front) -> None:
        name = type(front).__name__.removesuffix("Front").lower()
        watched = health is not None and health.reports_itself(name)
        if health is not None and not watched:
            health.up(name)
        reason = STOPPED
        try:
            await front.run(stop)
        except Exception as exc:
            reason = type(exc).__name__  # not the message: /healthz is not for secrets
            if health is not None:
                health.down(name, reason)
            if alerter is not None:
                from pipeline.alerts import Cause, Kind

                await alerter.report(Cause.of(Kind.FRONT, exc, provider=name), message=str(exc))
            raise
        finally:
            if health is not None:
                health.down(name, reason)
            stop.set()

    async with asyncio.TaskGroup() as group:
        for front in fronts:
            group.create_task(guarded(front), name=f"front:{type(front).__name__}")
        if beside is not None:  # start-up work that needs the fronts (an alert)
            group.create_task(beside, name="beside-fronts")


def _stopper(stop: asyncio.Event, number: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        logger.warning("%s: shutting down", number.name)
        stop.set()

    return handler


def main() -> int:
    """``python -m bot``: 0 after a clean stop, 2 when settings are missing, 1 on a failure."""
    from pipeline.logs import setup_logging_for

    settings = Settings()
    setup_logging_for(settings, logging.INFO)
    # The heavy imports, before the loop starts.
    if settings.telegram.bot_token is not None:
        import bot.telegram  # noqa: F401
    if settings.discord.bot_token is not None:
        import bot.discord  # noqa: F401
    try:
        asyncio.run(serve(settings))
    except MissingSettings as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        logger.critical("the bot stopped: %s", exc, exc_info=True)
        return 1
    return 0


__all__ = ["MissingSettings", "configured_fronts", "main", "missing_settings", "serve"]
