"""aiogram's FSM on SQLite: state and data survive a new storage on the same database."""

from __future__ import annotations

from pathlib import Path

from aiogram.fsm.storage.base import StorageKey

from bot.telegram.states import Flow
from bot.telegram.storage import SQLiteStorage
from storage import Database, FsmRepository

KEY = StorageKey(bot_id=1, chat_id=10, user_id=20)


async def test_state_and_data_survive_a_restart(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    storage = SQLiteStorage(FsmRepository(db))
    await storage.set_state(KEY, Flow.editing)
    await storage.update_data(KEY, {"job": "j1", "scene": 2})
    await storage.close()
    await db.close()

    db = await Database.open(tmp_path / "a.db")
    try:
        again = SQLiteStorage(FsmRepository(db))
        assert await again.get_state(KEY) == Flow.editing.state
        assert await again.get_data(KEY) == {"job": "j1", "scene": 2}
        assert await again.get_state(StorageKey(bot_id=1, chat_id=10, user_id=21)) is None
        await again.set_state(KEY, None)
        await again.set_data(KEY, {})
        async with db.conn.execute("SELECT COUNT(*) FROM fsm") as cursor:
            assert (await cursor.fetchone())[0] == 0  # type: ignore[index]
    finally:
        await db.close()
