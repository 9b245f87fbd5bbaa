"""Start, help, settings, admins, flood control: the front's small paths."""

from __future__ import annotations

import time

from pipeline.studio import Studio
from tests.bot.conftest import ADMIN, ALICE, World
from tests.fakes.telegram import TgUser


async def test_start_speaks_the_clients_language_and_the_menu_is_set(world: World) -> None:
    async with world.bot():
        english = await world.said(ALICE, "/start")
        assert english.plain.startswith("Hi Alice!")
        russian = await world.said(TgUser(5, "Иван", "ru"), "/start")
        assert russian.plain.startswith("Привет, Иван!")
        spanish = await world.said(TgUser(6, "Ana", "es-MX"), "/help")
        assert spanish.plain.startswith("Comandos:")
        german = await world.said(TgUser(7, "Jo", "de"), "/start")
        assert german.plain.startswith("Hallo Jo!")
        japanese = await world.said(TgUser(9, "Ken", "ja"), "/start")
        assert japanese.plain.startswith("Hi Ken!")  # no catalog: English
        menus = {c.params.get("language_code") for c in world.tg.of("setMyCommands")}
        assert menus == {None, "en", "ru", "es", "de", "fr", "it", "pt"}


async def test_user_text_is_escaped(world: World) -> None:
    async with world.bot():
        reply = await world.said(TgUser(8, "<b>Eve</b> & co", "en"), "/start")
        assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in reply.text
        assert reply.plain.startswith("Hi <b>Eve</b> & co!")


async def test_settings_are_stored_and_change_the_interface(world: World) -> None:
    async with world.bot() as front:
        menu = await world.said(ALICE, "/language")
        message = world.tg.message_of(menu)
        answer, edited = await world.pressed(ALICE, message, "🖥 Русский", "editMessageText")
        assert answer.params["text"] == "Сохранено."
        assert edited.plain.startswith("Язык интерфейса: Русский")
        _, edited = await world.pressed(
            ALICE, world.tg.message_of(edited), "🎙 Español", "editMessageText"
        )
        assert "Язык озвучки: Español" in edited.plain
        voices = await world.said(ALICE, "/voice")
        assert "es-419" in " ".join(world.tg.buttons(world.tg.message_of(voices)))
        await world.pressed(ALICE, world.tg.message_of(voices), "es-419", "editMessageText")
        styles = await world.said(ALICE, "/style")
        await world.pressed(ALICE, world.tg.message_of(styles), "плашке", "editMessageText")
        help_ = await world.said(ALICE, "/help")
        assert help_.plain.startswith("Команды:")
        prefs = await front.studio.preferences("telegram:101")
        assert (prefs.ui_language, prefs.language, prefs.voice, prefs.style) == (
            "ru",
            "es",
            "es-419",
            "boxed",
        )


async def test_stats_are_for_admins(world: World) -> None:
    async with world.bot():
        refused = await world.said(ALICE, "/stats")
        assert refused.plain == "This command is for admins."
        await world.said(ALICE, "/script " + "One scene.\n\nTwo scenes.")
        stats = await world.said(ADMIN, "/stats")
        assert "Jobs: 1" in stats.plain and "script_review 1" in stats.plain


async def test_flood_control_is_waited_out_and_retried_once(world: World) -> None:
    async with world.bot():
        world.tg.fail("sendMessage", code=429, retry_after=1)
        started = time.monotonic()
        reply = await world.said(ALICE, "/help")
        assert reply.plain.startswith("Commands:")
        assert time.monotonic() - started >= 1.0
        assert [c.status for c in world.tg.of("sendMessage")] == [429, 200]


async def test_studio_is_shared_by_the_handlers(world: World) -> None:
    async with world.bot() as front:
        assert isinstance(front.studio, Studio)
        assert front.dispatcher["studio"] is front.studio
