"""Update middlewares: track handlers in flight, drop repeated updates, and put the user's
identity (``owner``) and language (``t``) into every handler's data."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from bot.tasks import InFlight
from pipeline.studio import Studio

from .texts import telegram_translator

logger = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
FRONT = "telegram"


def owner_of(user: User) -> str:
    return f"{FRONT}:{user.id}"


class TrackInFlight(BaseMiddleware):
    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.in_flight.track():
            return await handler(event, data)


class DropRepeatedUpdates(BaseMiddleware):
    """An update_id seen recently is not handled again (a retried webhook, a replayed poll).
    The studio's idempotency keys catch the rest, across restarts too."""

    def __init__(self, remember: int = 2048) -> None:
        self.remember = remember
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            if event.update_id in self._seen:
                logger.info("update %d seen before; dropped", event.update_id)
                return None
            self._seen[event.update_id] = None
            while len(self._seen) > self.remember:
                self._seen.popitem(last=False)
        return await handler(event, data)


class UserContext(BaseMiddleware):
    """``owner`` ("telegram:<id>") and ``t``: the stored interface language, else the client's
    ``language_code`` when a catalog exists for it, else English."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            data["owner"], data["t"] = None, telegram_translator()
        else:
            owner = owner_of(user)
            preferences = await self.studio.preferences(owner)
            data["owner"] = owner
            data["t"] = telegram_translator(preferences.ui_language, user.language_code)
        return await handler(event, data)
