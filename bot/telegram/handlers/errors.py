"""The one place errors become replies: domain errors in the user's language, the rest logged.

A press on someone else's job gets an alert; a press on a finished job or a past step gets a
plain answer; other errors end the button's spinner and get a message in the chat."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.presenters import HTML, error_text
from locales import Translator
from pipeline.errors import ReelError
from pipeline.studio import BadButton, Busy, JobNotFound, NotOwner, StaleJob, WrongStep

from ..texts import telegram_translator

logger = logging.getLogger(__name__)

ALERT_LIMIT = 200  # characters Telegram shows in a callback answer


async def _answer(query: CallbackQuery, text: str | None = None, *, alert: bool = False) -> None:
    # The press may have been answered already (slow actions answer first).
    with contextlib.suppress(TelegramBadRequest):
        await query.answer(text[:ALERT_LIMIT] if text else None, show_alert=alert)


async def _tell(event: ErrorEvent, text: str) -> None:
    query, message = event.update.callback_query, event.update.message
    if query is not None:
        if isinstance(event.exception, NotOwner):
            await _answer(query, text, alert=True)
            return
        if isinstance(event.exception, StaleJob | WrongStep | Busy | BadButton | JobNotFound):
            await _answer(query, text)
            return
        await _answer(query)
        target: Message | None = query.message if isinstance(query.message, Message) else None
    else:
        target = message
    if target is not None:
        await target.answer(HTML.escape(text))


async def reel_error(event: ErrorEvent, t: Translator | None = None) -> None:
    exc = event.exception
    assert isinstance(exc, ReelError)
    logger.info("update %d: %s: %s", event.update.update_id, type(exc).__name__, exc)
    await _tell(event, error_text(exc, t or telegram_translator()))


async def telegram_error(event: ErrorEvent) -> None:
    logger.warning("update %d: telegram said: %s", event.update.update_id, event.exception)


async def unexpected(event: ErrorEvent, t: Translator | None = None) -> None:
    logger.error("update %d failed", event.update.update_id, exc_info=event.exception)
    with contextlib.suppress(TelegramAPIError):
        await _tell(event, (t or telegram_translator())("error.internal"))


async def unknown_button(query: CallbackQuery, t: Translator) -> None:
    """Button data no handler matched: from an older version of the bot, or forged."""
    logger.info("unknown callback data %r", (query.data or "")[:64])
    await _answer(query, t("error.bad_button"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(unknown_button)
    router.error.register(reel_error, ExceptionTypeFilter(ReelError))
    router.error.register(telegram_error, ExceptionTypeFilter(TelegramAPIError))
    router.error.register(unexpected)
    return router
