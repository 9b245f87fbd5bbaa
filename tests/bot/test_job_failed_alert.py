"""A chat job that fails while it is made reaches the admins as one JOB_FAILED DM (through the
running Telegram front's own client), with its job id and stage, and no key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.channels import Notifiers, telegram_dm
from pipeline.alerts import Alerter
from storage import AlertRepository
from tests.bot.conftest import ADMIN, ALICE, World, draft


@pytest.mark.slow
async def test_a_failed_chat_job_alerts_the_admins(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "ffmpeg"  # an ffmpeg that always fails: the render stage fails
    broken.write_text("#!/bin/sh\necho 'broken ffmpeg' >&2\nexit 1\n", encoding="utf-8")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    world.groq.enqueue(draft("Octopus hearts", ["Octopuses have three hearts.", "Blue blood."]))
    tg = world.tg
    async with world.bot(ffmpeg_binary=str(broken)) as front:
        notifiers = Notifiers()
        notifiers.add("telegram", telegram_dm(front.bot))
        front.studio.alerter = Alerter.from_settings(
            front.app.settings, AlertRepository(front.app.db), notifiers
        )
        script = await world.said(ALICE, "why octopuses have three hearts")
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        await world.pressed(ALICE, tg.message_of(sheet), "Render", "sendMessage")
        [alert] = await tg.wait_for(
            "sendMessage", lambda c: str(c.params["chat_id"]) == str(ADMIN.id), timeout=60
        )
        [job] = await front.app.jobs.recent(1)
    text = str(alert.params["text"])
    assert "a job failed" in text and f"Job: {job.id}" in text
    assert "Stage:" in text and job.state == "failed"
    assert "test-key" not in text
    assert len([c for c in tg.of("sendMessage") if str(c.params["chat_id"]) == str(ADMIN.id)]) == 1
