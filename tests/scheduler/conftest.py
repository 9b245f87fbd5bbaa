"""The daily run against every fake at once: Telegram and Discord (the real aiogram and
discord.py clients over REST), Groq drafting through the real adapter, Wikipedia's feed for
the topics; espeak, offline cards and ffmpeg make small 2-scene reels.

``reelfactory daily`` runs as a subprocess (as an operator runs it, and so a test can kill it)
while the fakes answer from this test's event loop."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord import DcChannel, DcGuild, DcUser, FakeDiscord
from tests.fakes.groq import FakeGroq, ok
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wikipedia import FakeWikipedia

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = -1001234567890  # a Telegram channel
TG_ADMIN = 909
DC_ADMIN = DcUser(1009, "ada")
GROQ_KEY = "gsk_" + "K" * 40  # recognisable: no DM may contain it
DEADLINE = 120.0


def two_scenes(title: str = "Comet Atlas") -> Any:
    body = {
        "title": title,
        "language": "en",
        "hook": "A comet brightened.",
        "scenes": [
            {"narration": "A comet brightened.", "visual_query": "comet", "image_prompt": "comet"},
            {"narration": "Look up tonight.", "visual_query": "sky", "image_prompt": "night sky"},
        ],
        "hashtags": ["comet", "sky"],
        "description": title,
        "style_bible": "Night sky photography.",
    }
    return ok(json.dumps(body))


@dataclass
class Daily:
    tmp: Path
    tg: FakeTelegram
    dc: FakeDiscord
    groq: FakeGroq
    wiki: FakeWikipedia
    guild: DcGuild
    news: DcChannel
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELFACTORY_")}
        env.update(
            PYTHONPATH=str(ROOT),
            REELFACTORY_DATA_DIR=str(self.tmp / "data"),
            REELFACTORY_TELEGRAM_BOT_TOKEN=FakeTelegram.TOKEN,
            REELFACTORY_TELEGRAM_API_BASE=self.tg.base_url,
            REELFACTORY_DISCORD_BOT_TOKEN=FakeDiscord.TOKEN,
            REELFACTORY_DISCORD_API_BASE=self.dc.base_url,
            REELFACTORY_GROQ_API_KEY=GROQ_KEY,
            REELFACTORY_GROQ_BASE_URL=self.groq.base_url,
            REELFACTORY_SCRIPT_CHAIN="groq",
            REELFACTORY_VOICE_CHAIN="espeak",
            REELFACTORY_IMAGE_CHAIN="cards",
            REELFACTORY_PROVIDER_RETRIES="1",
            REELFACTORY_PROVIDER_TIMEOUT="10",
            REELFACTORY_TRENDS_CHAIN="wikipedia",
            REELFACTORY_WIKIPEDIA_API_BASE=self.wiki.base_url,
            REELFACTORY_CONTACT_EMAIL="ops@example.org",
            REELFACTORY_DAILY_DESTINATIONS=f"telegram:{CHANNEL},discord:{self.news.id}",
            REELFACTORY_ADMINS=f"telegram:{TG_ADMIN},discord:{DC_ADMIN.id}",
        )
        env.update(self.extra)
        return env

    async def run(self, *args: str, failpoint: str | None = None) -> tuple[int, str]:
        env = self.env
        if failpoint is not None:
            env["REELFACTORY_FAILPOINT"] = failpoint
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            cwd=self.tmp,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), DEADLINE)
        assert proc.returncode is not None
        return proc.returncode, output.decode(errors="replace")

    def channel_videos(self) -> list[Any]:
        return [c for c in self.tg.of("sendVideo") if str(c.params["chat_id"]) == str(CHANNEL)]

    def channel_reels(self, channel: DcChannel | None = None) -> list[Any]:
        return [
            m
            for m in self.dc.messages(channel or self.news)
            if any(a.filename == "reel.mp4" for a in m.attachments)
        ]

    def telegram_dms(self) -> list[str]:
        return [
            str(c.params["text"])
            for c in self.tg.of("sendMessage")
            if str(c.params["chat_id"]) == str(TG_ADMIN)
        ]

    def discord_dms(self) -> list[str]:
        return [m.content for m in self.dc.messages(self.dc.dm_channel(DC_ADMIN))]


@pytest.fixture
async def daily(tmp_path: Path) -> AsyncIterator[Daily]:
    async with (
        FakeTelegram() as tg,
        FakeDiscord() as dc,
        FakeGroq() as groq,
        FakeWikipedia() as wiki,
    ):
        guild = dc.add_guild("Reel Lab", channels=("news",))
        dc.add_user(DC_ADMIN)
        yield Daily(tmp_path, tg, dc, groq, wiki, guild, guild.channel("news"))
