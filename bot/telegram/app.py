"""The Telegram front: app factory and lifetime.

``TelegramFront.run(stop)`` polls until ``stop`` is set, resumes unfinished jobs meanwhile, and
then shuts down in order: stop polling, let handlers in flight finish (briefly), cancel renders
(their jobs stay ``producing`` and resume at the next start), close the HTTP session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand

from bot.productions import Productions
from bot.progress import MIN_EDIT_INTERVAL
from bot.tasks import Background, InFlight, until_stopped
from locales import LOCALES
from pipeline.app import App
from pipeline.concurrency import KeyedLocks
from pipeline.studio import Studio

from .delivery import TelegramReels
from .handlers import create_routers
from .middlewares import FRONT, DropRepeatedUpdates, TrackInFlight, UserContext
from .session import create_bot
from .storage import SQLiteStorage
from .texts import COMMANDS, YOUTUBE_COMMANDS, telegram_translator

logger = logging.getLogger(__name__)

HANDLER_GRACE = 5.0  # seconds handlers in flight get to finish at shutdown


def create_dispatcher(
    *, studio: Studio, productions: Productions, in_flight: InFlight, storage: SQLiteStorage
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage, studio=studio, productions=productions, locks=KeyedLocks()
    )
    dispatcher.update.outer_middleware(TrackInFlight(in_flight))
    dispatcher.update.outer_middleware(DropRepeatedUpdates())
    dispatcher.update.outer_middleware(UserContext(studio))
    dispatcher.include_routers(*create_routers())
    return dispatcher


class TelegramFront:
    def __init__(
        self,
        app: App,
        *,
        bot: Bot | None = None,
        studio: Studio,
        edit_interval: float = MIN_EDIT_INTERVAL,
        polling_timeout: int = 10,
        handler_grace: float = HANDLER_GRACE,
    ) -> None:
        self.app = app
        self.bot = bot or create_bot(app.settings)
        self.studio = studio
        self.background = Background()
        self.in_flight = InFlight()
        self.reels = TelegramReels(
            self.bot, self.studio, upload_limit=app.settings.telegram.upload_limit_mb * 1024 * 1024
        )
        self.productions = Productions(
            self.studio, self.reels, self.background, edit_interval=edit_interval
        )
        self.dispatcher = create_dispatcher(
            studio=self.studio,
            productions=self.productions,
            in_flight=self.in_flight,
            storage=SQLiteStorage(app.conversations),
        )
        self.polling_timeout = polling_timeout
        self.handler_grace = handler_grace

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._set_commands()
            self.background.spawn(self._resume(), name="resume")
            polling = asyncio.create_task(
                self.dispatcher.start_polling(
                    self.bot,
                    handle_signals=False,
                    close_bot_session=False,
                    polling_timeout=self.polling_timeout,
                ),
                name="telegram-polling",
            )
            try:
                await until_stopped(polling, stop)
            finally:
                await self._stop_polling(polling)
        finally:
            await self.in_flight.drain(self.handler_grace)
            await self.background.close()
            await self.bot.session.close()
            logger.info("telegram front stopped")

    async def _stop_polling(self, polling: asyncio.Task[None]) -> None:
        if not polling.done():
            try:
                await self.dispatcher.stop_polling()
            except RuntimeError:
                polling.cancel()  # stopped before polling had started
        with contextlib.suppress(asyncio.CancelledError):
            await polling  # re-raises what made polling end on its own

    async def _resume(self) -> None:
        resumed = await self.studio.resume({FRONT: self.reels.resumed})
        if resumed:
            logger.info("resumed and delivered %d job(s): %s", len(resumed), ", ".join(resumed))

    async def _set_commands(self) -> None:
        """The command menu, in every language with a catalog."""
        try:
            for locale in (None, *LOCALES):
                t = telegram_translator(locale)
                names = [
                    *COMMANDS,
                    *(YOUTUBE_COMMANDS if self.studio.app.settings.youtube_configured else ()),
                ]
                commands = [BotCommand(command=c, description=t(f"command.{c}")) for c in names]
                await self.bot.set_my_commands(commands, language_code=locale)
        except TelegramAPIError as exc:
            logger.warning("could not set the command menu: %s", exc)
