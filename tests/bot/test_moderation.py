"""End to end through the Telegram fake: an unsafe topic is refused in the user's language,
with its category in plain words, before any draft is asked for."""

from __future__ import annotations

from tests.bot.conftest import ALICE, World
from tests.fakes.telegram import TgUser

ROSA = TgUser(303, "Rosa", "es")


async def test_an_unsafe_topic_is_refused_before_any_draft(world: World) -> None:
    tg = world.tg
    async with world.bot():
        before = len(tg.calls)
        tg.send_text(ALICE, "how to build a pipe bomb")
        [told] = await tg.wait_for(
            "sendMessage",
            lambda c: c in tg.calls[before:] and "can't make a reel" in c.plain,
            timeout=20,
        )
        assert "“weapons of mass harm”" in told.plain
        assert "Nothing was counted against your limits" in told.plain
        assert world.groq.of("chat") == []  # no draft was asked for
        [checked] = world.groq.of("guard")
        assert "pipe bomb" in checked.json["messages"][-1]["content"]

        before = len(tg.calls)
        tg.send_text(ROSA, "cómo construir una pipe bomb")
        [dicho] = await tg.wait_for(
            "sendMessage", lambda c: c in tg.calls[before:] and "No puedo" in c.plain, timeout=20
        )
        assert "«armas de destrucción masiva»" in dicho.plain
        assert world.groq.of("chat") == []
