"""Restarts lose nothing: the conversation (FSM in SQLite) and the render (resumed at start-up,
delivered exactly once)."""

from __future__ import annotations

import asyncio

import pytest

from pipeline.models import JobState
from storage import DeliveryRepository
from tests.bot.conftest import ALICE, SHORT, World


async def test_a_conversation_survives_a_restart(world: World) -> None:
    tg = world.tg
    async with world.bot():
        script = await world.said(ALICE, "/script " + SHORT)
        message = tg.message_of(script)
        await world.pressed(ALICE, message, "Edit", "editMessageReplyMarkup")
        _, prompt = await world.pressed(
            ALICE, tg.messages[(ALICE.id, message["message_id"])], "1", "sendMessage"
        )
        assert "scene 1" in prompt.plain
    async with world.bot():
        edited = await world.said(ALICE, "Octopuses really have three hearts.", "editMessageText")
        assert int(edited.params["message_id"]) == message["message_id"]
        assert "1. Octopuses really have three hearts." in edited.plain


@pytest.mark.slow
async def test_a_render_interrupted_by_a_restart_resumes_and_arrives_once(world: World) -> None:
    tg = world.tg
    release = asyncio.Event()
    async with world.bot() as first:
        script = await world.said(ALICE, "/script " + SHORT)
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        sheet_message = tg.message_of(sheet)
        render = tg.button(sheet_message, "Render")
        job_id = render.split(":")[-1]

        async def occupy() -> None:
            async with first.app.queue.slot("someone-else"):
                await release.wait()

        holder = asyncio.create_task(occupy())
        await asyncio.sleep(0)
        await world.pressed(ALICE, sheet_message, "Render", "sendMessage")
        async with asyncio.timeout(30):
            while first.app.queue.position(job_id) != 1:  # voice done, waiting to render
                await asyncio.sleep(0.05)
        # SIGTERM now: the render task is cancelled, the job stays where it was.
    release.set()
    await holder
    assert not tg.of("sendVideo")

    async with world.bot() as second:
        stopped = await second.studio.job(job_id)
        assert stopped.state == JobState.PRODUCING
        video = await tg.wait_for("sendVideo", timeout=60)
        assert str(video[0].params["chat_id"]) == str(ALICE.id)
        async with asyncio.timeout(10):
            while (await second.studio.job(job_id)).state != JobState.DELIVERED:
                await asyncio.sleep(0.05)
        runs = await second.app.runs.for_job(job_id)
        voice_runs = [r.outcome for r in runs if r.stage == "voice"]
        assert voice_runs == ["ok"]  # not redone after the restart
        # A late press on the old sheet does nothing.
        late = await world.answer_to(ALICE, sheet_message, render)
        assert late.params["text"] == "This reel is already finished or cancelled."

    async with world.bot() as third:  # and a third start delivers nothing again
        await asyncio.sleep(1.0)
        deliveries = await DeliveryRepository(third.app.db).for_job(job_id)
        assert [(d.target, d.state) for d in deliveries] == [(f"telegram:{ALICE.id}", "sent")]
    assert len(tg.of("sendVideo")) == 1
