""" "Also in …" on Discord: the select under a delivered reel dubs it; the Spanish reel comes as
a reply to the original, captioned as dubbed, with Spanish karaoke."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.conftest import delivered_in, draft
from tests.bot.discord.conftest import ALICE, BOB, DiscordWorld
from tests.bot.discord.test_flow import job_of, shown
from tests.fakes.discord import DcMessage
from tests.fakes.scripts import OCTOPUS


@pytest.mark.slow
async def test_dub_select_makes_the_reel_in_spanish_as_a_reply(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    world.groq.enqueue(draft("Octopus", list(OCTOPUS["en"][:3])))
    async with world.bot() as front:
        script = await world.reel(ALICE, topic="why octopuses have three hearts")
        job = job_of(script)
        sheet = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
        dc.press(ALICE, sheet, sheet.button("Render"))

        def delivered() -> list[DcMessage]:
            return [
                m
                for m in dc.messages(world.general)
                if m.content.startswith("<@")
                and any(a.filename == "reel.mp4" for a in m.attachments)
            ]

        [original] = await dc.wait_until(lambda: delivered() or None, timeout=60)
        select = f"reel-dub:{job}"
        assert select in original.custom_ids()

        refused = await world.reply_to(dc.select(BOB, original, select, ["es"]))
        assert refused.ephemeral and "Only the person who started" in shown(refused.content)

        pressed = dc.select(ALICE, original, select, ["es"])
        started = await world.reply_to(pressed)
        assert started.ephemeral and "Making this reel in Español" in shown(started.content)
        reels = await dc.wait_until(lambda: d if len(d := delivered()) == 2 else None, timeout=60)
        dubbed = reels[1]
        assert "Español: dubbed version (original in English)." in shown(dubbed.content)
        assert select not in dubbed.custom_ids()
        posted = [c for c in dc.of("create_message") if "reel.mp4" in str(c.files)]
        assert posted[-1].data["message_reference"]["message_id"] == original.id

        again = await world.reply_to(dc.select(ALICE, original, select, ["es"]))
        assert "already has a Español version" in shown(again.content)

        dub = await delivered_in(front.app, "es")
        timings = json.loads((Path(dub.work_dir) / "timings.json").read_text("utf-8"))
        assert [w["text"] for w in timings] == [w for s in OCTOPUS["es"][:3] for w in s.split()]
