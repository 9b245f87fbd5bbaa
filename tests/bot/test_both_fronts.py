"""``serve`` with a Telegram and a Discord token: both fronts in one process, on one App and
one Studio, so a Telegram user and a Discord user rendering at the same time share one FIFO
render queue and each gets their own reel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import SecretStr

from bot import serve
from pipeline.app import App
from pipeline.models import JobState
from pipeline.settings import Settings
from tests.bot.conftest import ALICE as TG_ALICE
from tests.bot.discord.conftest import ALICE as DC_ALICE
from tests.bot.discord.conftest import OWN
from tests.fakes.discord import FakeDiscord, pointed_at
from tests.fakes.telegram import FakeTelegram


async def test_a_telegram_and_a_discord_user_render_through_one_queue(
    settings: Settings,
) -> None:
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        guild = dc.add_guild("Reel Lab")
        dc.add_member(guild, DC_ALICE)
        general = guild.channel("general")
        config = settings.model_copy(
            update={
                "telegram": settings.telegram.model_copy(
                    update={"bot_token": SecretStr(FakeTelegram.TOKEN), "api_base": tg.base_url}
                ),
                "discord": settings.discord.model_copy(
                    update={"bot_token": SecretStr(FakeDiscord.TOKEN), "api_base": dc.base_url}
                ),
                "render_concurrency": 1,
            }
        )
        stop = asyncio.Event()
        with pointed_at(dc):
            serving = asyncio.create_task(serve(config, stop=stop, handle_signals=False))
            try:
                await tg.wait_for("getMe", timeout=20)
                await dc.wait_for("bulk_global_commands", timeout=20)
                # Telegram: own script, approve.
                tg.send_text(TG_ALICE, "/script " + OWN)
                script = (
                    await tg.wait_for(
                        "sendMessage", lambda c: "Approve" in str(c.params), timeout=20
                    )
                )[0]
                tg.press(
                    TG_ALICE, tg.message_of(script), tg.button(tg.message_of(script), "Approve")
                )
                sheet = (await tg.wait_for("sendPhoto", timeout=20))[0]
                # Discord: own script, approve.
                ask = dc.slash(DC_ALICE, "reel", {"script": OWN}, channel=general)
                dc_script = await dc.wait_until(
                    lambda: ask.original if ask.original and ask.original.components else None,
                    timeout=20,
                )
                approve = dc.press(DC_ALICE, dc_script, dc_script.button("Approve"))
                dc_sheet = await dc.wait_until(
                    lambda: next((m for m in approve.messages if m.attachments), None), timeout=20
                )
                # Both press Render at once.
                tg.press(TG_ALICE, tg.message_of(sheet), tg.button(tg.message_of(sheet), "Render"))
                dc.press(DC_ALICE, dc_sheet, dc_sheet.button("Render"))
                video = (await tg.wait_for("sendVideo", timeout=90))[0]
                dc_reel = await dc.wait_until(lambda: reel_message_in(dc, general), timeout=90)
            finally:
                stop.set()
                await asyncio.wait_for(serving, 30)
        assert str(video.params["chat_id"]) == str(TG_ALICE.id)
        assert any(a.filename == "reel.mp4" for a in dc_reel.attachments)
        assert dc_reel.content.startswith(f"<@{DC_ALICE.id}>")
        # One queue: the two renders ran one after the other, not side by side.
        async with await App.open(config) as app:
            jobs = await app.jobs.in_states(JobState.DELIVERED)
            assert sorted(job.origin for job in jobs) == ["discord", "telegram"]
            runs = [run for job in jobs for run in await app.runs.for_job(job.id)]
        renders = sorted((r for r in runs if r.stage == "render"), key=lambda r: r.started_at)
        first, second = renders
        assert first.duration_ms is not None
        ended = first.started_at + timedelta(milliseconds=first.duration_ms)
        assert second.started_at >= ended - timedelta(milliseconds=2)


def reel_message_in(dc: FakeDiscord, channel: object) -> object:
    return next((m for m in dc.messages(channel) if m.content.startswith("<@")), None)  # type: ignore[arg-type]
