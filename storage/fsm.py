"""Conversation state of the chat fronts (aiogram's FSM), one row per key, so a restart
loses no conversation. The aiogram adapter lives in ``bot.telegram.storage``."""

from __future__ import annotations

import json
import logging
from typing import Any

from .db import Database
from .repositories import _iso, now

logger = logging.getLogger(__name__)


class FsmRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        row = await self._db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (key,))
        if row is None:
            return None, {}
        return row["state"], json.loads(row["data"] or "{}")

    async def set_state(self, key: str, state: str | None) -> None:
        await self._db.conn.execute(
            "INSERT INTO fsm (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
            "updated_at = excluded.updated_at",
            (key, state, _iso(now())),
        )
        await self._prune(key)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self._db.conn.execute(
            "INSERT INTO fsm (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            (key, json.dumps(data, ensure_ascii=False), _iso(now())),
        )
        await self._prune(key)

    async def _prune(self, key: str) -> None:
        # A conversation back at rest needs no row; keeps the table as small as the live chats.
        await self._db.conn.execute(
            "DELETE FROM fsm WHERE key = ? AND state IS NULL AND data = '{}'", (key,)
        )
