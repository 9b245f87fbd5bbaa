from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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


# --- the browser test (tests/pipeline/share/test_browser.py) ----------------------------------
# Where Chromium is missing it is skipped; the summary line says so in so many words
# ("1 browser test not run") rather than hiding it among the skips.
BROWSER_NOT_RUN = "browser test not run"


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    if report.skipped and "browser" in report.keywords:
        return BROWSER_NOT_RUN, "B", "BROWSER TEST NOT RUN"
    return None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    reports = terminalreporter.stats.get(BROWSER_NOT_RUN, [])
    for report in reports:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        terminalreporter.write_line(f"{report.nodeid}: {reason}", yellow=True, bold=True)
