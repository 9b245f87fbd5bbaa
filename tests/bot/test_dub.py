""" "Also in …" on Telegram: a delivered English reel, dubbed into Spanish with one press,
arrives as a reply to the original, captioned as dubbed, with Spanish karaoke. Translation by
the fake Groq through the real adapter, espeak's Spanish voice, a real render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bot.conftest import ALICE, BOB, World, delivered_in, draft
from tests.fakes.scripts import OCTOPUS
from tests.fakes.telegram import Call

ENGLISH = list(OCTOPUS["en"][:3])


async def _delivered(world: World) -> tuple[dict[str, Any], Call]:
    world.groq.enqueue(draft("Octopus", ENGLISH))
    script = await world.said(ALICE, "why octopuses have three hearts")
    tg = world.tg
    _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
    before = len(tg.calls)
    await world.pressed(ALICE, tg.message_of(sheet), "Render", "sendMessage")
    [video] = await tg.wait_for("sendVideo", lambda c: c in tg.calls[before:], timeout=60)
    return tg.message_of(video), video


@pytest.mark.slow
async def test_dub_button_makes_the_reel_in_spanish_as_a_reply(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        original, video = await _delivered(world)
        labels = list(tg.buttons(original))
        assert labels == [
            f"🌐 Also in {n}"
            for n in ("Русский", "Español", "Deutsch", "Français", "Italiano", "Português")
        ]

        # Somebody else's press is refused, and makes nothing.
        refusal = await world.answer_to(BOB, original, tg.button(original, "🌐 Also in Español"))
        assert refusal.params.get("show_alert") == "true"
        assert (
            refusal.params["text"] == "Only the person who started this reel can use its buttons."
        )

        before = len(tg.calls)
        answer = await world.answer_to(ALICE, original, tg.button(original, "🌐 Also in Español"))
        assert answer.params["text"].startswith("Making this reel in Español")
        [dubbed] = await tg.wait_for("sendVideo", lambda c: c in tg.calls[before:], timeout=60)
        message = tg.message_of(dubbed)
        assert message["reply_to_message"]["message_id"] == original["message_id"]
        assert "Español: dubbed version (original in English)." in dubbed.plain
        assert not tg.buttons(message)  # a dub offers no further dubs

        # A second press for the same language points at the dub; nothing is made again.
        again = await world.answer_to(ALICE, original, tg.button(original, "🌐 Also in Español"))
        assert again.params["text"].startswith("This reel already has a Español version")
        assert len(tg.of("sendVideo")) == 2

        dub = await delivered_in(front.app, "es")
        assert dub.script is not None
        assert [s["narration"] for s in dub.script["scenes"]] == list(OCTOPUS["es"][:3])
        timings = json.loads((Path(dub.work_dir) / "timings.json").read_text("utf-8"))
        assert [w["text"] for w in timings] == [w for s in OCTOPUS["es"][:3] for w in s.split()]
        assert (await front.studio.dub_of(dub.id)).parent != dub.id  # type: ignore[union-attr]
