from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.settings import DiscordSettings, Settings, TelegramSettings
from storage import Database


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    # Tests never read a developer's .env or REELFACTORY_* variables.
    for name in list(__import__("os").environ):
        if name.startswith("REELFACTORY_"):
            monkeypatch.delenv(name)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "data",
        telegram=TelegramSettings(_env_file=None),  # type: ignore[call-arg]
        discord=DiscordSettings(_env_file=None),  # type: ignore[call-arg]
    )


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.db")
    try:
        yield database
    finally:
        await database.close()
