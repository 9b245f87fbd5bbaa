"""How long a Telegram user waits at each step, with provider fakes as slow as the real ones.

    python -m tests.bot.steps

The real Telegram front (aiogram over the fake Bot API), drafting through the fake Gemini
(4 s), voicing through the fake ElevenLabs (5 s, its music and effects too), searching images
through the fake Google search (1 s, 0.5 s per download). Each figure runs from the moment the
fake queues the user's update to the moment the bot's answer reaches the fake. The Discord
front's counterpart is tests/bot/discord/latency.py; both share its fakes and step names.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from pipeline.providers import build
from pipeline.settings import Settings
from tests.bot.conftest import ALICE, World
from tests.bot.discord.latency import (
    DOWNLOAD,
    LLM,
    SEARCH,
    TTS,
    Steps,
    report,
    slow_providers,
)
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.gemini import FakeGemini
from tests.fakes.google_search import FakeGoogleSearch
from tests.fakes.groq import FakeGroq
from tests.fakes.telegram import FakeTelegram


async def measure(base: Settings, review: float = 0.0, swap: bool = True) -> Steps:
    """The steps of one reel; ``review`` is how long the user looks at the contact sheet
    before (with ``swap``) swapping a picture and pressing Render."""
    async with (
        FakeTelegram() as tg,
        FakeGroq() as groq,
        FakeGemini(latency={"text": LLM}) as gemini,
        FakeElevenLabs(latency=TTS) as eleven,
        FakeGoogleSearch(latency=SEARCH, download_latency=DOWNLOAD) as google,
    ):
        front = {
            "telegram": base.telegram.model_copy(
                update={"bot_token": SecretStr(FakeTelegram.TOKEN), "api_base": tg.base_url}
            )
        }
        settings = slow_providers(base, gemini, eleven, google).model_copy(update=front)
        world = World(tg, groq, settings, build)
        async with world.bot():
            asked = time.monotonic()
            script = await world.said(ALICE, "why octopuses have three hearts")
            topic_to_script = script.at - asked
            message = tg.message_of(script)
            pressed = time.monotonic()
            answer, sheet = await world.pressed(ALICE, message, "Approve", "sendPhoto")
            press_ack = answer.at - pressed
            approve_to_sheet = sheet.at - pressed
            sheet_message = tg.message_of(sheet)

            await asyncio.sleep(review)  # the user looks at the pictures
            swap_to_sheet = 0.0
            if swap:
                pressed = time.monotonic()
                _, swapped = await world.pressed(ALICE, sheet_message, "Swap 2", "editMessageMedia")
                swap_to_sheet = swapped.at - pressed
                sheet_message = tg.message_of(swapped)
            pressed = time.monotonic()
            before = len(tg.of("sendVideo"))
            await world.pressed(ALICE, sheet_message, "Render", "sendMessage")
            video = await tg.wait_for(
                "sendVideo", lambda c: c in tg.of("sendVideo")[before:], timeout=120
            )
            render_to_video = video[0].at - pressed
    return Steps(press_ack, topic_to_script, approve_to_sheet, swap_to_sheet, render_to_video)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder))  # type: ignore[call-arg]
        steps = asyncio.run(measure(settings, review=12.0))
    print(json.dumps(report(steps), indent=2))


if __name__ == "__main__":
    main()
