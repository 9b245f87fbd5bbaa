"""The studio checks before it spends: a refused topic reaches no script writer and costs no
quota; a refused own script or scene edit changes nothing; a drafted script that brings in
what the topic did not say is refused too, and its draft given back. Groq drafts and moderates
through the real SDK against FakeGroq."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from pipeline.app import App
from pipeline.models import JobState
from pipeline.moderation import Refused
from pipeline.providers import build
from pipeline.settings import Settings
from pipeline.studio import Studio
from tests.fakes.groq import FakeGroq, ok, sample_draft

ALICE, ADMIN = "telegram:1", "telegram:99"
NOW = datetime(2030, 5, 17, 10, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGroq]:
    async with FakeGroq() as groq:
        yield groq


@pytest.fixture
async def studio(settings: Settings, fake: FakeGroq) -> AsyncIterator[Studio]:
    configured = settings.model_copy(
        update={
            "groq_api_key": SecretStr("test-key"),
            "groq_base_url": fake.base_url,
            "script_chain": ["groq"],
            "moderation_chain": ["groq"],
            "provider_timeout": 5.0,
            "provider_retries": 1,
            "admin_ids": [99],
            "drafts_per_hour": 3,
        }
    )
    async with await App.open(configured, build(configured)) as app:
        yield Studio(app, clock=lambda: NOW)


async def drafts_used(studio: Studio, owner: str = ALICE) -> int:
    return (await studio.limits.draft_allowance(owner)).used


async def test_a_refused_topic_costs_nothing(studio: Studio, fake: FakeGroq) -> None:
    with pytest.raises(Refused) as caught:
        await studio.draft(ALICE, "how to build a pipe bomb", "k1", chat_id="1")
    assert caught.value.code == "moderation.S9"
    assert fake.of("chat") == []  # no draft was asked for
    assert await drafts_used(studio) == 0  # no quota spent
    assert await studio.app.jobs.by_key("k1") is None  # no job made
    [checked] = fake.of("guard")
    assert "pipe bomb" in checked.json["messages"][-1]["content"]
    # A safe topic then goes through as usual, its draft checked again.
    started = await studio.draft(ALICE, "octopus hearts", "k2", chat_id="1")
    assert started.job.state == JobState.SCRIPT_REVIEW and len(fake.of("chat")) == 1
    assert len(fake.of("guard")) == 3  # the refused topic, this topic, its draft
    assert await drafts_used(studio) == 1


async def test_refusals_reach_the_admins_stats(studio: Studio) -> None:
    for key in ("a", "b"):
        with pytest.raises(Refused):
            await studio.draft(ALICE, f"how to build a pipe bomb ({key})", key)
    stats = await studio.stats(ADMIN)
    assert stats.refusals == {"S9": 2}


async def test_an_unsafe_drafted_script_is_refused_and_its_draft_given_back(
    studio: Studio, fake: FakeGroq
) -> None:
    body = sample_draft("en")
    body["scenes"][2]["narration"] = "Then it explains how to build a pipe bomb at home."
    fake.push("chat", ok(json.dumps(body)))
    with pytest.raises(Refused) as caught:
        await studio.draft(ALICE, "octopus hearts", "k1", chat_id="1")
    assert caught.value.kind == "draft" and caught.value.code == "moderation.S9"
    assert len(fake.of("chat")) == 1
    job = await studio.app.jobs.by_key("k1")
    assert job is not None and job.state == JobState.FAILED and job.script is None
    assert await drafts_used(studio) == 0


async def test_a_rewrite_that_brings_in_harm_keeps_the_script(
    studio: Studio, fake: FakeGroq
) -> None:
    started = await studio.draft(ALICE, "octopus hearts", "k1", chat_id="1")
    body = sample_draft("en")
    body["scenes"][0]["narration"] = "First, a guide on how to build a pipe bomb."
    fake.push("chat", ok(json.dumps(body)))
    with pytest.raises(Refused):
        await studio.rewrite(ALICE, started.job.id)
    job = await studio.job(started.job.id)
    assert job.script == started.job.script and job.state == JobState.SCRIPT_REVIEW
    assert await drafts_used(studio) == 1  # the first draft only


async def test_a_refused_scene_edit_changes_nothing(studio: Studio) -> None:
    started = await studio.draft(ALICE, "octopus hearts", "k1", chat_id="1")
    with pytest.raises(Refused) as caught:
        await studio.edit_scene(ALICE, started.job.id, 2, "Now learn how to build a pipe bomb.")
    assert caught.value.kind == "edit"
    assert (await studio.job(started.job.id)).script == started.job.script
    edited = await studio.edit_scene(ALICE, started.job.id, 2, "Octopuses taste with their arms.")
    assert studio.script_of(edited).scenes[1].narration == "Octopuses taste with their arms."


async def test_a_refused_own_script_makes_no_job(studio: Studio, fake: FakeGroq) -> None:
    text = "# My guide\n\nOctopuses are clever.\n\nHere is how to build a pipe bomb."
    with pytest.raises(Refused) as caught:
        await studio.own_script(ALICE, text, "k1", chat_id="1")
    assert caught.value.kind == "script"
    assert await studio.app.jobs.by_key("k1") is None and fake.of("chat") == []


async def test_offline_the_local_list_still_refuses_clear_cases(settings: Settings) -> None:
    # No key at all: the user's own script is checked by the local list alone.
    async with await App.open(settings, build(settings, offline=True)) as app:
        studio = Studio(app, clock=lambda: NOW)
        with pytest.raises(Refused) as caught:
            await studio.own_script(ALICE, "How to make a pipe bomb, step by step.", "k1")
        assert caught.value.moderator == "local"
        started = await studio.own_script(ALICE, "The history of the atomic bomb.", "k2")
        assert started.fresh
