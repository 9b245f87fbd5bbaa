"""The Bot and its HTTP session: custom Bot API server, HTML by default, flood control honoured."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from pipeline.settings import Settings

logger = logging.getLogger(__name__)

# Flood control beyond this is not waited out inside a request: the caller hears of it.
MAX_RETRY_AFTER = 60.0


class RetryAfter(BaseRequestMiddleware):
    """On TelegramRetryAfter (HTTP 429), sleep as told and try once more."""

    def __init__(
        self,
        *,
        max_wait: float = MAX_RETRY_AFTER,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_wait = max_wait
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            if exc.retry_after > self.max_wait:
                raise
            logger.warning(
                "telegram: flood control on %s, retrying in %s s",
                type(method).__name__,
                exc.retry_after,
            )
            await self._sleep(exc.retry_after)
            return await make_request(bot, method)


class OneAnswer(BaseRequestMiddleware):
    """One ``answerCallbackQuery`` per press. Presses are answered first, before their work;
    an error in that work then reaches the errors router, which would answer again: that
    second answer is not sent (Telegram refuses it anyway)."""

    def __init__(self, remember: int = 4096) -> None:
        self.remember = remember
        self._answered: OrderedDict[str, None] = OrderedDict()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        query = method.callback_query_id if isinstance(method, AnswerCallbackQuery) else None
        if query is None:
            return await make_request(bot, method)
        if query in self._answered:
            logger.debug("callback query %s was answered already", query)
            return cast(Response[Any], Response[bool](ok=True, result=True))
        self._answered[query] = None
        while len(self._answered) > self.remember:
            self._answered.popitem(last=False)
        return await make_request(bot, method)


def create_bot(settings: Settings) -> Bot:
    config = settings.telegram
    if config.bot_token is None:
        raise ValueError("REELFACTORY_TELEGRAM_BOT_TOKEN is not set")
    if config.api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(config.api_base))
    else:
        session = AiohttpSession()
    session.middleware(OneAnswer())
    session.middleware(RetryAfter())
    return Bot(
        config.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
