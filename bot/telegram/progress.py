"""Telling a chat that work is under way: the typing indicator, and one progress message
edited in place at most once every ``interval`` seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.presenters import HTML, ProgressBoard
from locales import Translator
from pipeline.models import ProgressEvent

logger = logging.getLogger(__name__)

MIN_EDIT_INTERVAL = 2.0
TYPING_EVERY = 4.5  # Telegram shows a chat action for about 5 s


@contextlib.asynccontextmanager
async def chat_action(
    bot: Bot, chat_id: int, action: ChatAction = ChatAction.TYPING
) -> AsyncIterator[None]:
    """Show ``action`` ("typing…") while the body runs. A failed send only loses the hint."""

    async def repeat() -> None:
        while True:
            try:
                await bot.send_chat_action(chat_id=chat_id, action=action)
            except TelegramAPIError as exc:
                logger.debug("chat action failed: %s", exc)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(repeat(), name=f"chat-action:{chat_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class ProgressMessage:
    """The runner's progress callback for one chat message.

    The callback only records the event: a single task edits the message, never sooner than
    ``interval`` after its last edit finished, always with the latest state. A slow or
    rate-limited Telegram therefore never slows the render.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        message_id: int,
        t: Translator,
        *,
        board: ProgressBoard | None = None,
        interval: float = MIN_EDIT_INTERVAL,
    ) -> None:
        self.bot, self.chat_id, self.message_id, self.t = bot, chat_id, message_id, t
        self.board = board or ProgressBoard()
        self.interval = interval
        self.edits = 0
        self._shown = self.board.text(t, HTML)
        self._last = time.monotonic()  # sending the message counts as its first edit
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, event: ProgressEvent) -> None:
        self.board.update(event)
        self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._edits(), name=f"progress:{self.message_id}")

    async def _edits(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            self._changed.clear()
            await self._edit(self.board.text(self.t, HTML))

    async def _edit(self, text: str) -> None:
        if text == self._shown:
            return
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=self.message_id
            )
            self._shown = text
            self.edits += 1
        except TelegramBadRequest as exc:
            logger.debug("progress edit refused: %s", exc)  # e.g. "message is not modified"
        except TelegramAPIError as exc:
            logger.warning("progress edit failed: %s", exc)
        finally:
            self._last = time.monotonic()

    async def stop(self) -> None:
        """Stop editing, leaving the message as it is."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close(self, final: str | None = None) -> None:
        """Stop editing; show ``final`` (or the latest state) last, still keeping the interval."""
        await self.stop()
        if final is None:
            final = self.board.text(self.t, HTML) if self._changed.is_set() else None
        if final is not None:
            await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))
            await self._edit(final)
