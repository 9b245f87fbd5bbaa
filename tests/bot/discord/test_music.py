"""A Discord user's own track: the ``music`` attachment of /reel, credited in the caption."""

from __future__ import annotations

from tests.bot.discord.conftest import ALICE as DC_ALICE
from tests.bot.discord.conftest import OWN, DiscordWorld
from tests.bot.discord.test_flow import reel_message, shown
from tests.bot.test_music import tone_wav


async def test_discord_reel_with_its_own_track(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        ask = dc.slash(
            DC_ALICE,
            "reel",
            {"script": OWN, "music": ("bed.wav", tone_wav())},
            channel=world.general,
        )
        told = await dc.wait_until(
            lambda: next((m for m in ask.messages if "will play" in shown(m.content)), None),
            timeout=20,
        )
        assert told.ephemeral and "“bed.wav”" in shown(told.content)
        script = next(m for m in ask.messages if m.components)
        sheet = await world.reply_to(dc.press(DC_ALICE, script, script.button("Approve")))
        dc.press(DC_ALICE, sheet, sheet.button("Render"))
        reel = await dc.wait_until(lambda: reel_message(world), timeout=60)
        assert "♪ bed.wav" in shown(reel.content)
