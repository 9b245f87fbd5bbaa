"""End-to-end harness for the Discord front: the real discord.py client (REST and gateway)
against FakeDiscord, drafts from FakeGroq through the real Groq adapter, renders with espeak
and ffmpeg."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from bot.discord import DiscordFront
from pipeline.app import App
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from tests.fakes.discord import DcChannel, DcGuild, DcMessage, DcUser, FakeDiscord, pointed_at
from tests.fakes.groq import FakeGroq

ALICE = DcUser(1001, "alice")
BOB = DcUser(1002, "bob <b>")
ADMIN = DcUser(1009, "ada")
OWN = "# Hearts\n\nFirst scene, about hearts.\n\nSecond scene.\n\nThird scene."


@dataclass
class DiscordWorld:
    dc: FakeDiscord
    groq: FakeGroq
    settings: Settings
    guild: DcGuild
    fronts: list[DiscordFront] = field(default_factory=list)

    @property
    def general(self) -> DcChannel:
        return self.guild.channel("general")

    @asynccontextmanager
    async def bot(self, **settings: Any) -> AsyncIterator[DiscordFront]:
        """A running Discord front; stopped as on SIGTERM when the block ends."""
        config = self.settings.model_copy(update=settings)
        app = await App.open(config, build(config))
        front = DiscordFront(app, studio=Studio(app), edit_interval=0.2, guild_ready_timeout=0.01)
        self.fronts.append(front)
        stop = asyncio.Event()
        with pointed_at(self.dc):  # puts discord.py's globals back afterwards
            running = asyncio.create_task(front.run(stop))
            try:
                await asyncio.wait_for(front.bot.ready_once.wait(), 10)
                yield front
            finally:
                stop.set()
                try:
                    await asyncio.wait_for(running, 15)
                finally:
                    await app.close()

    async def reel(
        self, user: DcUser, channel: DcChannel | None = None, **options: str
    ) -> DcMessage:
        """``/reel`` with ``options``; the message that answers it (the script, or a refusal)."""
        ask = self.dc.slash(user, "reel", options, channel=channel or self.general)
        await self.dc.wait_until(lambda: ask.acked)
        return await self.dc.wait_until(
            lambda: ask.original if ask.original and not ask.original.loading else None,
            timeout=20,
        )

    async def reply_to(self, handle: Any, *, timeout: float = 20) -> DcMessage:
        """The first message an interaction made after its acknowledgement (a followup, an
        ephemeral refusal)."""
        return await self.dc.wait_until(
            lambda: next((m for m in handle.messages if not m.loading), None), timeout=timeout
        )


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py logs what it swallows (a failing callback, an unparsable event): fail on it."""
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert not errors, errors


@pytest.fixture
async def discord_world(settings: Settings) -> AsyncIterator[DiscordWorld]:
    async with FakeDiscord(ack_deadline=3.0) as dc, FakeGroq() as groq:
        guild = dc.add_guild("Reel Lab", channels=("general",))
        for user in (ALICE, BOB, ADMIN):
            dc.add_member(guild, user)
        configured = settings.model_copy(
            update={
                "discord": settings.discord.model_copy(
                    update={"bot_token": SecretStr(FakeDiscord.TOKEN), "api_base": dc.base_url}
                ),
                "groq_api_key": SecretStr("test-key"),
                "groq_base_url": groq.base_url,
                "provider_timeout": 5.0,
                "provider_retries": 1,
                "admins": [f"discord:{ADMIN.id}"],
            }
        )
        yield DiscordWorld(dc, groq, configured, guild)
