"""Delivery on Discord when things go wrong: a dead interaction token, a post cut off by a
crash, a restart between approval and render, a gateway that asks the bot to reconnect."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.models import JobState
from storage import DeliveryRepository
from tests.bot.discord.conftest import ALICE, OWN, DiscordWorld
from tests.bot.discord.test_flow import job_of, reel_message
from tests.fakes.discord import DcMessage


async def _sheet(world: DiscordWorld) -> tuple[str, DcMessage]:
    script = await world.reel(ALICE, script=OWN)
    job = job_of(script)
    sheet = await world.reply_to(world.dc.press(ALICE, script, script.button("Approve")))
    return job, sheet


async def test_an_expired_token_at_delivery_still_brings_the_reel(
    discord_world: DiscordWorld,
) -> None:
    """Interaction tokens die after 15 minutes: the reel then goes through the channel."""
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        job, sheet = await _sheet(world)
        render = dc.press(ALICE, sheet, sheet.button("Render"))
        await dc.wait_until(lambda: render.acked)
        dc.expire(render)  # as if the render had waited in the queue for 15 minutes
        reel = await dc.wait_until(lambda: reel_message(world), timeout=60)
        assert any(a.filename == "reel.mp4" for a in reel.attachments)
        assert reel.interaction is None  # a channel message, not a followup
        # The dead token was tried once (for the progress message), then the channel used.
        assert [c.status for c in dc.of("execute_webhook")].count(401) == 1
        assert any(c.status == 200 and "reel.mp4" in str(c.files) for c in dc.of("create_message"))
        assert len([m for m in dc.messages(world.general) if m.content.startswith("<@")]) == 1


async def test_a_restart_between_approval_and_render_delivers_once(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        job, sheet = await _sheet(world)
    # The bot restarted: the sheet's buttons are the old process's, and still work.
    async with world.bot() as front:
        render = dc.press(ALICE, sheet, sheet.button("Render"))
        await dc.wait_until(lambda: render.acked)
        await dc.wait_until(lambda: reel_message(world), timeout=60)
        assert front.bot.studio is not None
    async with world.bot() as again:  # and a third start posts nothing more
        state = (await again.bot.studio.job(job)).state
        assert state == JobState.DELIVERED
    reels = [m for m in dc.messages(world.general) if m.content.startswith("<@")]
    assert len(reels) == 1 and reels[0].attachments


async def test_a_post_cut_off_by_a_crash_is_followed_by_its_link_once(
    discord_world: DiscordWorld, tmp_path: Path
) -> None:
    """Killed after Discord may have taken the video, before it was recorded: on restart the
    reel's link goes out in a short message, never the video a second time."""
    world, dc = discord_world, discord_world.dc
    async with world.bot() as front:
        job, sheet = await _sheet(world)
        studio = front.bot.studio
        await studio.queue_render(f"discord:{ALICE.id}", job)
        # Made and published, but the process died mid-post: the claim stays "sending".
        await studio.preparations.settle(job)  # as Studio.produce does before a render
        production = await studio.app.runner.produce(job)
        await studio.app.jobs.update(
            job, result={**production.result, "reel_url": "https://cdn.reels.test/r/reel.mp4"}
        )
        await DeliveryRepository(studio.app.db).claim(job, f"discord:{world.general.id}")
    async with world.bot() as restarted:
        reel = await dc.wait_until(lambda: reel_message(world), timeout=30)
        assert not reel.attachments and "interrupted" in reel.content
        assert re.search(r"\]\(<https://cdn\.reels\.test/r/reel\.mp4>\)", reel.content)
    async with world.bot() as restarted:  # recorded as delivered: nothing more goes out
        final = await restarted.bot.studio.job(job)
        assert final.state == JobState.DELIVERED
    reels = [m for m in dc.messages(world.general) if m.content.startswith("<@")]
    assert len(reels) == 1


async def test_after_a_gateway_reconnect_the_bot_resumes_and_still_serves(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        await dc.reconnect()
        assert dc.resume_count == 1 and dc.identify_count == 1
        script = await world.reel(ALICE, script=OWN)
        assert script.button("Approve")
