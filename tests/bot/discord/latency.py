"""How long a Discord user waits at each step, with provider fakes as slow as the real ones.

    python -m tests.bot.discord.latency

The real Discord front (discord.py over REST and the gateway) against FakeDiscord, drafting
through the fake Gemini (4 s), voicing through the fake ElevenLabs (5 s), searching images
through the fake Google search (1 s, 0.5 s per download). Each figure is from the moment the
fake dispatches the user's interaction to the moment the bot's answer reaches the fake.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import SecretStr

from pipeline.settings import Settings
from tests.bot.discord.conftest import ALICE, DiscordWorld
from tests.fakes.discord import DcMessage, FakeDiscord
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.gemini import FakeGemini
from tests.fakes.google_search import FakeGoogleSearch
from tests.fakes.groq import FakeGroq

LLM, TTS, SEARCH, DOWNLOAD = 4.0, 5.0, 1.0, 0.5


@dataclass(frozen=True, slots=True)
class Steps:
    slash_ack: float
    topic_to_script: float
    approve_to_sheet: float
    swap_to_sheet: float
    render_to_video: float


@asynccontextmanager
async def slow_world(base: Settings) -> AsyncIterator[DiscordWorld]:
    async with (
        FakeDiscord() as dc,
        FakeGroq() as groq,
        FakeGemini(latency={"text": LLM}) as gemini,
        FakeElevenLabs(latency=TTS) as eleven,
        FakeGoogleSearch(latency=SEARCH, download_latency=DOWNLOAD) as google,
    ):
        guild = dc.add_guild("Reel Lab")
        dc.add_member(guild, ALICE)
        front = {
            "discord": base.discord.model_copy(
                update={"bot_token": SecretStr(FakeDiscord.TOKEN), "api_base": dc.base_url}
            )
        }
        settings = slow_providers(base, gemini, eleven, google).model_copy(update=front)
        yield DiscordWorld(dc, groq, settings, guild)


def slow_providers(
    base: Settings, gemini: FakeGemini, eleven: FakeElevenLabs, google: FakeGoogleSearch
) -> Settings:
    """``base`` drafting with the fake Gemini, voicing with the fake ElevenLabs and searching
    with the fake Google search (whatever latencies they were started with)."""
    return base.model_copy(
        update={
            "gemini_api_key": SecretStr("bench"),
            "gemini_base_url": gemini.base_url,
            "elevenlabs_api_key": SecretStr("bench"),
            "elevenlabs_base_url": eleven.base_url,
            "google_search_api_key": SecretStr("bench"),
            "google_search_cx": "bench",
            "google_search_base_url": google.base_url,
            "fetch_allow_hosts": ["127.0.0.1"],
            "script_chain": ["gemini"],
            "voice_chain": ["elevenlabs", "espeak"],
            "image_chain": ["google_search", "cards"],
        }
    )


async def measure(base: Settings, review: float = 0.0, swap: bool = True) -> Steps:
    """The steps of one reel; ``review`` is how long the user looks at the contact sheet
    before (with ``swap``) swapping a picture and pressing Render (a person takes about 12 s)."""
    async with slow_world(base) as world:
        dc = world.dc
        async with world.bot():
            ask = dc.slash(
                ALICE, "reel", {"topic": "why octopuses have three hearts"}, channel=world.general
            )
            script: DcMessage = await dc.wait_until(
                lambda: next((m for m in ask.messages if m.components), None), timeout=60
            )
            topic_to_script = time.monotonic() - ask.created
            assert ask.acked_at is not None
            slash_ack = ask.acked_at - ask.created

            approve = dc.press(ALICE, script, script.button("Approve"))
            sheet = await dc.wait_until(
                lambda: next((m for m in approve.messages if m.attachments), None), timeout=60
            )
            approve_to_sheet = time.monotonic() - approve.created
            job = sheet.button("Render").rsplit(":", 1)[-1]

            await asyncio.sleep(review)  # the user looks at the pictures
            swap_to_sheet = 0.0
            if swap:
                first = sheet.attachments[0].data
                swapped = dc.select(ALICE, sheet, f"reel-pick:swap:{job}", ["1"])
                await dc.wait_until(lambda: dc.message(sheet.id).attachments[0].data != first)
                swap_to_sheet = time.monotonic() - swapped.created

            render = dc.press(ALICE, dc.message(sheet.id), sheet.button("Render"))
            await dc.wait_until(
                lambda: next(
                    (m for m in dc.messages(world.general) if m.content.startswith("<@")), None
                ),
                timeout=120,
            )
            render_to_video = time.monotonic() - render.created
    return Steps(slash_ack, topic_to_script, approve_to_sheet, swap_to_sheet, render_to_video)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, data_dir=Path(folder))  # type: ignore[call-arg]
        steps = asyncio.run(measure(settings))
    print(json.dumps(report(steps), indent=2))


def report(steps: Steps) -> dict[str, object]:
    figures: dict[str, object] = {
        "latency_s": {"llm": LLM, "tts": TTS, "search": SEARCH, "download": DOWNLOAD}
    }
    figures["slash_ack_ms"] = round(steps.slash_ack * 1000, 1)
    for name, value in asdict(steps).items():
        if name != "slash_ack":
            figures[f"{name}_s"] = round(value, 2)
    return figures


if __name__ == "__main__":
    main()
