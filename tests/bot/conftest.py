"""End-to-end harness: the real bot (aiogram's HTTP layer) against FakeTelegram, drafts from
FakeGroq through the real Groq adapter, renders with espeak and ffmpeg."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import SecretStr

from bot.telegram import TelegramFront
from pipeline.app import App
from pipeline.models import JobState
from pipeline.providers import Providers, build
from pipeline.settings import Settings
from pipeline.studio import Studio
from storage import JobRecord
from tests.fakes.groq import FakeGroq, ok
from tests.fakes.telegram import Call, FakeTelegram, TgUser

ALICE = TgUser(101, "Alice", "en")
BOB = TgUser(202, "Bob <b>&", "en")
ADMIN = TgUser(909, "Ada", "en")
SHORT = "Octopuses have three hearts.\n\nTheir blood is blue."


def draft(title: str, scenes: list[str], *, tags: tuple[str, ...] = ("octopus", "facts")) -> Any:
    """A FakeGroq answer: a ScriptDraft with these scenes."""
    body = {
        "title": title,
        "language": "en",
        "hook": scenes[0],
        "scenes": [
            {"narration": text, "visual_query": "octopus", "image_prompt": "an octopus"}
            for text in scenes
        ],
        "hashtags": list(tags),
        "description": title,
        "style_bible": "Underwater photography.",
    }
    return ok(json.dumps(body))


@dataclass
class World:
    tg: FakeTelegram
    groq: FakeGroq
    settings: Settings
    providers: Callable[[Settings], Providers] = build
    fronts: list[TelegramFront] = field(default_factory=list)

    @asynccontextmanager
    async def bot(self, **settings: Any) -> AsyncIterator[TelegramFront]:
        """A running bot; stopped (cleanly, as on SIGTERM) when the block ends."""
        config = self.settings.model_copy(update=settings)
        seen = list(self.tg.calls)
        app = await App.open(config, self.providers(config))
        front = TelegramFront(app, studio=Studio(app), polling_timeout=1, handler_grace=1.0)
        self.fronts.append(front)
        stop = asyncio.Event()
        running = asyncio.create_task(front.run(stop))
        try:
            await self.tg.wait_for("getMe", lambda c: c not in seen, timeout=10)
            yield front
        finally:
            stop.set()
            try:
                await asyncio.wait_for(running, 15)
            finally:
                await app.close()

    async def said(self, user: TgUser, text: str, method: str = "sendMessage") -> Call:
        """Send ``text`` as ``user`` and wait for the bot's next ``method`` call to them."""
        before = len(self.tg.calls)
        self.tg.send_text(user, text)
        calls = await self.tg.wait_for(
            method, lambda c: c in self.tg.calls[before:] and _to(c, user), timeout=20
        )
        return calls[0]

    async def pressed(
        self, user: TgUser, message: dict[str, Any], label: str, method: str
    ) -> tuple[Call, Call]:
        """Press the button labelled ``label``; the callback answer and the next ``method``."""
        before = len(self.tg.calls)
        update = self.tg.press(user, message, self.tg.button(message, label))
        query_id = update["callback_query"]["id"]
        answer = await self.tg.wait_for(
            "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id
        )
        reply = await self.tg.wait_for(method, lambda c: c in self.tg.calls[before:], timeout=30)
        return answer[0], reply[0]

    async def answer_to(self, user: TgUser, message: dict[str, Any], data: str) -> Call:
        update = self.tg.press(user, message, data)
        query_id = update["callback_query"]["id"]
        calls = await self.tg.wait_for(
            "answerCallbackQuery", lambda c: c.params["callback_query_id"] == query_id
        )
        return calls[0]


async def delivered_in(app: App, language: str) -> JobRecord:
    """The job in ``language`` once it is recorded as delivered: that write follows the
    video's post, so a test that saw the post waits for it."""
    async with asyncio.timeout(10):
        while True:
            job = next(j for j in await app.jobs.recent() if j.language == language)
            if job.state == JobState.DELIVERED:
                return job
            await asyncio.sleep(0.02)


def _to(call: Call, user: TgUser) -> bool:
    return str(call.params.get("chat_id")) == str(user.id)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    async with FakeTelegram() as tg, FakeGroq() as groq:
        configured = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={"bot_token": SecretStr(FakeTelegram.TOKEN), "api_base": tg.base_url}
                ),
                "groq_api_key": SecretStr("test-key"),
                "groq_base_url": groq.base_url,
                "provider_timeout": 5.0,
                "provider_retries": 1,
                "admin_ids": [ADMIN.id],
            }
        )
        yield World(tg, groq, configured)
