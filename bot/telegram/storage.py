"""aiogram FSM storage on SQLite (aiosqlite), so a restart loses no conversation.

aiogram ships memory, Redis and Mongo storages; this one keeps state and data in the app's
database through ``App.conversations`` (the SQL stays in ``storage``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)


class StateStore(Protocol):
    """Conversation state by key (``App.conversations``; the SQL stays in ``storage``)."""

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]: ...

    async def set_state(self, key: str, state: str | None) -> None: ...

    async def set_data(self, key: str, data: dict[str, Any]) -> None: ...


logger = logging.getLogger(__name__)


class SQLiteStorage(BaseStorage):
    def __init__(self, repository: StateStore, key_builder: KeyBuilder | None = None) -> None:
        self._repository = repository
        self._keys = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._repository.set_state(self._keys.build(key), value)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._repository.get(self._keys.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._repository.set_data(self._keys.build(key), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._repository.get(self._keys.build(key))
        return data

    async def close(self) -> None:
        # The database belongs to the App, which closes it.
        return None
