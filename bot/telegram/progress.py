"""Telling a chat that work is under way: the typing (or uploading) indicator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError

logger = logging.getLogger(__name__)

TYPING_EVERY = 4.5  # Telegram shows a chat action for about 5 s


@contextlib.asynccontextmanager
async def chat_action(
    bot: Bot, chat_id: int | str, action: ChatAction = ChatAction.TYPING
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
