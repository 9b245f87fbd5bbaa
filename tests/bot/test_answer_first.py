"""Presses are answered first (issue 15): a press made while 20 other jobs are building their
picture reviews is answered before any of that work finishes, and once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from pipeline.fairshare import SCENES_AT_ONCE, current
from pipeline.models import ImageCandidate, Script
from pipeline.ports import ImageSource
from pipeline.providers import Providers, build
from pipeline.settings import Settings
from tests.bot.conftest import ALICE, BOB, World
from tests.fakes.telegram import TgUser

OWN = "/script First scene, about hearts.\n\nSecond scene.\n\nThird scene."
OTHERS = [TgUser(3000 + n, f"Other {n}", "en") for n in range(20)]


class HeldPictures:
    """The offline cards, held while ``open`` is clear: picture work still under way. Counts
    the scenes waiting here, and the pieces of work finished."""

    name = "held"

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.open = asyncio.Event()
        self.open.set()
        self.waiting: list[str] = []  # the job of each scene waiting
        self.turns_taken = asyncio.Event()  # every scene turn is held here
        self.finished = 0

    async def candidates(
        self, script: Script, scene: int, count: int, out_dir: Path
    ) -> list[ImageCandidate]:
        if not self.open.is_set():
            self.waiting.append(current().job)
            if len(self.waiting) >= SCENES_AT_ONCE:
                self.turns_taken.set()
        await self.open.wait()
        try:
            return await self.inner.candidates(script, scene, count, out_dir)
        finally:
            self.finished += 1


async def test_a_press_is_answered_while_twenty_reviews_are_being_built(world: World) -> None:
    held: list[HeldPictures] = []

    def providers(settings: Settings) -> Providers:
        built = build(settings)
        held.append(HeldPictures(built.images[-1]))
        built.images.insert(0, held[-1])
        return built

    world.providers = providers
    tg = world.tg
    async with world.bot() as front:
        pictures = held[0]
        bob = await world.said(BOB, OWN)
        _, bob_sheet = await world.pressed(BOB, tg.message_of(bob), "Approve", "sendPhoto")
        bob_job = tg.button(tg.message_of(bob_sheet), "Render").split(":")[-1]
        await front.studio.preparations.ready(bob_job)  # his alternates are in too
        scripts = [await world.said(user, OWN) for user in OTHERS]
        alice = await world.said(ALICE, OWN)

        pictures.open.clear()
        before = len(tg.calls)
        presses = []
        for user, script in zip(OTHERS, scripts, strict=True):
            message = tg.message_of(script)
            presses.append(tg.press(user, message, tg.button(message, "Approve")))
        # All twenty approvals under way: each press answered, its job's scenes held here or
        # queued behind the held ones for a turn.
        queries = {press["callback_query"]["id"] for press in presses}
        await tg.wait_for(
            "answerCallbackQuery",
            lambda c: c.params["callback_query_id"] in queries,
            count=len(queries),
        )
        await asyncio.wait_for(pictures.turns_taken.wait(), 30)
        finished = pictures.finished

        approve = await world.answer_to(
            ALICE, tg.message_of(alice), tg.button(tg.message_of(alice), "Approve")
        )
        render = await world.answer_to(
            BOB, tg.message_of(bob_sheet), tg.button(tg.message_of(bob_sheet), "Render")
        )
        assert approve.params["text"] == "Finding pictures for every scene…"
        assert render.params["text"] == "Your reel is in the render queue."
        # Answered while every other job's picture work still waited: none of it finished.
        assert not pictures.open.is_set() and pictures.finished == finished

        pictures.open.set()
        sheets = await tg.wait_for(
            "sendPhoto", lambda c: c in tg.calls[before:], count=len(OTHERS) + 1, timeout=120
        )
        assert {int(c.params["chat_id"]) for c in sheets} == {user.id for user in [*OTHERS, ALICE]}
    answers = Counter(c.params["callback_query_id"] for c in tg.of("answerCallbackQuery"))
    assert set(answers.values()) == {1}  # one answer per press
