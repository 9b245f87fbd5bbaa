"""Chat fronts, thin: parse input, call the studio, present results.

``serve`` runs the configured fronts in one event loop until SIGINT or SIGTERM (or ``stop``):
Telegram today; Discord and the scheduler join here. Front libraries are imported only when
serving, so ``bot.presenters`` stays cheap to import.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from pipeline.settings import Settings

logger = logging.getLogger(__name__)


class MissingSettings(Exception):
    """Serving needs settings that are not there; the message names them."""


def missing_settings(settings: Settings) -> list[str]:
    return [] if settings.telegram.bot_token else ["REELFACTORY_TELEGRAM_BOT_TOKEN"]


async def serve(
    settings: Settings, *, stop: asyncio.Event | None = None, handle_signals: bool = True
) -> None:
    if missing := missing_settings(settings):
        raise MissingSettings(
            f"serve needs {', '.join(missing)} (the bot token from @BotFather); "
            "REELFACTORY_TELEGRAM_API_BASE may point at another Bot API server"
        )
    from bot.telegram import TelegramFront
    from pipeline.app import App
    from pipeline.providers import build

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
        async with app:
            logger.info("serving with providers %s", providers.describe())
            await TelegramFront(app).run(stop)
    finally:
        for number in signals:
            loop.remove_signal_handler(number)


def _stopper(stop: asyncio.Event, number: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        logger.warning("%s: shutting down", number.name)
        stop.set()

    return handler


def main() -> int:
    """``python -m bot``: 0 after a clean stop, 2 when settings are missing, 1 on a failure."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = Settings()
    if not missing_settings(settings):
        import bot.telegram  # noqa: F401  (the heavy imports, before the loop starts)
    try:
        asyncio.run(serve(settings))
    except MissingSettings as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        logger.critical("the bot stopped: %s", exc, exc_info=True)
        return 1
    return 0


__all__ = ["MissingSettings", "main", "missing_settings", "serve"]
