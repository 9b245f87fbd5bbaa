"""Limits, duplicates and outages: told plainly, nothing else lost."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta

from pipeline.models import JobState
from tests.bot.conftest import ALICE, SHORT, World
from tests.fakes.groq import hang, status
from tests.fakes.telegram import Call


def _is_script(call: Call) -> bool:
    return "Approve" in str(call.params.get("reply_markup"))


async def test_daily_quota_is_told_with_its_reset_time(world: World) -> None:
    tg = world.tg
    async with world.bot(daily_render_quota=1) as front:
        script = await world.said(ALICE, "/script " + SHORT)
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        await front.studio.limits.take_render(f"telegram:{ALICE.id}")  # today's one render
        answer, told = await world.pressed(ALICE, tg.message_of(sheet), "Render", "sendMessage")
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
        assert told.plain == (
            f"Today's render quota (1) is used up. It resets at {tomorrow} 00:00 UTC."
        )
        assert "text" not in answer.params  # the spinner ends; the message says why
        job = await front.studio.job(tg.button(tg.message_of(sheet), "Render").split(":")[-1])
        assert job.state == JobState.IMAGES_REVIEW
        assert tg.buttons(tg.message_of(sheet))  # the sheet still offers Render
        assert not tg.of("sendVideo")


async def test_hourly_draft_limit(world: World) -> None:
    async with world.bot(drafts_per_hour=1):
        await world.said(ALICE, "octopus hearts")
        told = await world.said(ALICE, "volcano ash")
        assert told.plain.startswith("The hourly limit of drafts (1) is reached.")
        assert told.plain.endswith("UTC.")
        assert len(world.groq.of("chat")) == 1


async def test_a_duplicate_update_starts_one_job(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        update = tg.send_text(ALICE, "deep sea vents")
        tg.push(copy.deepcopy(update))  # the same update_id again
        tg.redeliver(update)  # the same message in another update
        await tg.wait_for("sendMessage", _is_script)
        follow = await world.said(ALICE, "/help")
        assert follow.plain.startswith("Commands:")
        scripts = [c for c in tg.of("sendMessage") if _is_script(c)]
        assert len(scripts) == 1
        assert len(world.groq.of("chat")) == 1
        jobs = await front.app.jobs.recent()
        assert [j.idempotency_key for j in jobs] == [f"telegram:{ALICE.id}:1"]


async def test_llm_outage_mid_draft_is_told_and_loses_nothing(world: World) -> None:
    tg = world.tg
    async with world.bot(provider_timeout=1.5) as front:
        own = await world.said(ALICE, "/script " + SHORT)
        world.groq.enqueue(status(500))
        failed = await world.said(ALICE, "octopus hearts")
        assert failed.plain.startswith("I couldn't write the script")
        assert "/script" in failed.plain

        world.groq.enqueue(hang())
        started = time.monotonic()
        tg.send_text(ALICE, "volcano ash")
        # While the writer hangs, the earlier job's buttons still answer at once.
        answer, _ = await world.pressed(ALICE, tg.message_of(own), "Edit", "editMessageReplyMarkup")
        assert answer.at - started < 1.0
        hung = await tg.wait_for("sendMessage", lambda c: "couldn't write" in c.plain, count=2)
        assert hung[1].at - started >= 1.5

        states = sorted(job.state for job in await front.app.jobs.recent())
        assert states == [JobState.FAILED, JobState.FAILED, JobState.SCRIPT_REVIEW]
        recovered = await world.said(ALICE, "volcano ash again")
        assert _is_script(recovered)
