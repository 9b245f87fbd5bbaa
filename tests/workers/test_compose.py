"""compose.yaml runs Redis as the queue needs it and a worker service that scales."""

from __future__ import annotations

from typing import Any

import yaml

from tests.workers.conftest import ROOT


def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return found


def test_redis_keeps_every_acknowledged_write_on_a_volume() -> None:
    redis = services()["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync always" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_the_worker_scales_and_gets_no_bot_secrets() -> None:
    found = services()
    worker, bot = found["worker"], found["bot"]
    assert worker["command"] == ["worker"]
    # --scale needs no fixed name or host port; the bot's .env (tokens, keys) stays with the bot.
    assert "container_name" not in worker and "ports" not in worker
    assert all(entry["path"] != ".env" for entry in worker["env_file"])
    for service in (worker, bot):
        assert service["environment"]["REELFACTORY_RENDER_BACKEND"] == "redis"
    redis_url = worker["environment"]["REELFACTORY_REDIS_URL"]
    assert redis_url == bot["environment"]["REELFACTORY_REDIS_URL"]
    assert redis_url.startswith("redis://redis:")
    assert worker["image"] == bot["image"]  # the bot's Dockerfile build
