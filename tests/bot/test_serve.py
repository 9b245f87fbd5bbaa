"""The real entry points, as processes: ``python -m bot`` and ``reelfactory serve``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram, TgUser

ROOT = Path(__file__).resolve().parents[2]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
    env.update({"REELFACTORY_DATA_DIR": str(data_dir), **extra})
    return env


async def test_serve_without_a_token_says_what_is_missing(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=tmp_path,  # no .env here
        env=_env(tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "REELFACTORY_TELEGRAM_BOT_TOKEN" in stderr.decode()
    assert "REELFACTORY_DISCORD_BOT_TOKEN" in stderr.decode()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_python_m_bot_serves_and_stops_cleanly(tmp_path: Path, stop: signal.Signals) -> None:
    async with FakeTelegram() as tg:
        env = _env(
            tmp_path / "data",
            REELFACTORY_TELEGRAM_BOT_TOKEN=FakeTelegram.TOKEN,
            REELFACTORY_TELEGRAM_API_BASE=tg.base_url,
            PYTHONPATH=str(ROOT),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-X",
            "dev",
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await tg.wait_for("getMe", timeout=60)
            tg.send_text(TgUser(7, "Ann"), "/start")
            greeting = await tg.wait_for("sendMessage", timeout=20)
            assert greeting[0].plain.startswith("Hi Ann!")
            proc.send_signal(stop)
            _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    log = stderr.decode()
    assert proc.returncode == 0, log
    assert f"{stop.name}: shutting down" in log
    for trouble in ("Traceback", "Task was destroyed", "Unclosed", "never awaited"):
        assert trouble not in log, log
    assert FakeTelegram.TOKEN not in log  # the token is a secret
