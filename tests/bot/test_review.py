"""Script and image review: edit in place, rewrite, cancel, and presses that must not act."""

from __future__ import annotations

from pipeline.models import JobState
from pipeline.providers import Providers, build
from pipeline.settings import Settings
from tests.bot.conftest import ALICE, BOB, SHORT, World, draft
from tests.pipeline.test_studio import GatedImages

OWN = "/script # Hearts\n\nFirst <scene> & one.\n\nSecond scene.\n\nThird scene."


def _job_of(data: str) -> str:
    return data.rsplit(":", 1)[-1]


async def test_edit_a_scene_in_place(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        script = await world.said(ALICE, OWN)
        assert "1. First <scene> & one." in script.plain
        message = tg.message_of(script)
        answer, picker = await world.pressed(ALICE, message, "Edit", "editMessageReplyMarkup")
        assert answer.params["text"] == "Which scene do you want to change?"
        assert list(tg.buttons(tg.message_of(picker))) == ["1", "2", "3", "⬅️ Back"]
        _, back = await world.pressed(
            ALICE, tg.message_of(picker), "Back", "editMessageReplyMarkup"
        )
        assert "✅ Approve" in tg.buttons(tg.message_of(back))
        await world.pressed(ALICE, tg.message_of(back), "Edit", "editMessageReplyMarkup")
        _, prompt = await world.pressed(
            ALICE, tg.messages[(ALICE.id, message["message_id"])], "2", "sendMessage"
        )
        assert prompt.plain == "Send the new text for scene 2 (up to 600 characters)."
        assert prompt.params["reply_markup"]["force_reply"] is True

        refused = await world.said(ALICE, "x" * 601)
        assert refused.plain.startswith("A scene is at most 600 characters; yours has 601.")
        edited = await world.said(ALICE, "A new <b>second</b> & scene.", "editMessageText")
        assert int(edited.params["message_id"]) == message["message_id"]
        assert "2. A new <b>second</b> & scene." in edited.plain
        assert "&lt;b&gt;second&lt;/b&gt; &amp; scene" in edited.text
        assert "✅ Approve" in tg.buttons(tg.message_of(edited))
        done = await tg.wait_for("sendMessage", lambda c: "updated" in c.plain)
        assert done[0].plain.startswith("Scene 2 updated")
        job = await front.studio.job(_job_of(tg.button(tg.message_of(edited), "Approve")))
        assert front.studio.script_of(job).scenes[1].narration == "A new <b>second</b> & scene."
        # The conversation is back at rest: the next text is a topic again.
        follow = await world.said(ALICE, "no")
        assert follow.plain.startswith("A topic is 3 to 300 characters; yours has 2.")


async def test_rewrite_replaces_the_draft_in_place(world: World) -> None:
    tg = world.tg
    world.groq.enqueue(
        draft("Volcanoes", ["Lava is hot.", "Ash travels far."]),
        draft("Volcanoes, again", ["Magma rises.", "It cools into rock.", "Islands are born."]),
    )
    async with world.bot():
        script = await world.said(ALICE, "/new volcanoes")
        assert "Volcanoes" in script.plain and "2. Ash travels far." in script.plain
        answer, edited = await world.pressed(
            ALICE, tg.message_of(script), "Rewrite", "editMessageText"
        )
        assert answer.params["text"] == "Writing a new draft…"
        assert int(edited.params["message_id"]) == tg.message_of(script)["message_id"]
        assert "Volcanoes, again" in edited.plain and "3. Islands are born." in edited.plain
        assert len(world.groq.of("chat")) == 2


async def test_cancel_then_every_button_is_stale(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        script = await world.said(ALICE, OWN)
        message = tg.message_of(script)
        approve = tg.button(message, "Approve")
        answer, told = await world.pressed(ALICE, message, "Cancel", "sendMessage")
        assert (
            answer.params["text"] == told.plain == "Cancelled. Send a new topic whenever you like."
        )
        await tg.wait_for(
            "editMessageReplyMarkup", lambda c: int(c.params["message_id"]) == message["message_id"]
        )
        assert not tg.buttons(tg.messages[(ALICE.id, message["message_id"])])
        stale = await world.answer_to(ALICE, message, approve)
        assert stale.params["text"] == "This reel is already finished or cancelled."
        assert stale.params.get("show_alert") in (None, "false")
        job = await front.studio.job(_job_of(approve))
        assert job.state == JobState.CANCELLED
        assert not tg.of("sendPhoto")


async def test_another_users_press_changes_nothing(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        script = await world.said(ALICE, OWN)
        message = tg.message_of(script)
        for label in ("Approve", "Edit", "Cancel"):
            alert = await world.answer_to(BOB, message, tg.button(message, label))
            assert alert.params["show_alert"] == "true"
            assert alert.params["text"] == (
                "Only the person who started this reel can use its buttons."
            )
        job = await front.studio.job(_job_of(tg.button(message, "Approve")))
        assert job.state == JobState.SCRIPT_REVIEW
        assert tg.messages[(ALICE.id, message["message_id"])] == message

        _, sheet = await world.pressed(ALICE, message, "Approve", "sendPhoto")
        sheet_message = tg.message_of(sheet)
        for label in ("Swap 1", "Render"):
            alert = await world.answer_to(BOB, sheet_message, tg.button(sheet_message, label))
            assert alert.params["show_alert"] == "true"
        job = await front.studio.job(job.id)
        assert job.state == JobState.IMAGES_REVIEW and job.selection == {"scenes": [0, 0, 0]}
        assert not tg.of("editMessageMedia")
        # A press on a step already taken answers plainly.
        late = await world.answer_to(ALICE, message, tg.button(message, "Approve"))
        assert late.params["text"] == "That button belongs to another step of this reel."


async def test_own_narration_as_a_reply_to_the_prompt(world: World) -> None:
    tg = world.tg
    async with world.bot():
        prompt = await world.said(ALICE, "/script")
        assert prompt.params["reply_markup"]["force_reply"] is True
        assert prompt.plain.startswith("Send your narration as a reply")
        before = len(tg.calls)
        tg.send_text(
            ALICE, "# Moon\n\nThe Moon drifts away.\n\nSlowly.", reply_to=tg.message_of(prompt)
        )
        script = (await tg.wait_for("sendMessage", lambda c: c in tg.calls[before:]))[0]
        assert script.plain.startswith("Moon\n\n1. The Moon drifts away.\n2. Slowly.")
        # No draft: the own narration is only checked by the safety model (issue 13).
        assert not world.groq.of("chat") and len(world.groq.of("guard")) == 1


async def test_without_an_llm_a_topic_is_answered_with_the_script_path(world: World) -> None:
    async with world.bot(groq_api_key=None):
        told = await world.said(ALICE, "octopus hearts")
        assert told.plain.startswith("I can't write scripts right now")
        assert "/script" in told.plain
        script = await world.said(ALICE, "/script " + SHORT)
        labels = " ".join(world.tg.buttons(world.tg.message_of(script)))
        assert "Approve" in labels and "Rewrite" not in labels


async def test_cancel_on_the_contact_sheet(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        script = await world.said(ALICE, OWN)
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        render = tg.button(tg.message_of(sheet), "Render")
        answer, told = await world.pressed(ALICE, tg.message_of(sheet), "Cancel", "sendMessage")
        assert told.plain.startswith("Cancelled.")
        assert (await front.studio.job(_job_of(render))).state == JobState.CANCELLED
        late = await world.answer_to(ALICE, tg.message_of(sheet), render)
        assert late.params["text"] == "This reel is already finished or cancelled."


async def test_rewrite_during_the_picture_search_is_refused_once_at_once(world: World) -> None:
    """Found by trying the bot: Rewrite pressed while the pictures were being found said
    "Writing a new draft…" and then nothing happened. Now the press gets one refusal at once,
    and the pictures still arrive."""
    gated: list[GatedImages] = []

    def providers(settings: Settings) -> Providers:
        built = build(settings)
        gated.append(GatedImages(built.images[-1]))
        built.images.insert(0, gated[-1])
        return built

    world.providers = providers
    tg = world.tg
    async with world.bot():
        script = await world.said(ALICE, OWN)
        message = tg.message_of(script)
        before = len(tg.calls)
        approve = tg.press(ALICE, message, tg.button(message, "Approve"))
        await gated[0].entered.wait()
        rewrite = world.answer_to(ALICE, message, tg.button(message, "Rewrite"))
        refusal = await rewrite
        assert refusal.params["text"] == (
            "I'm still working on the previous step of this reel. Please wait a moment."
        )
        gated[0].gate.set()
        await tg.wait_for("sendPhoto", lambda c: c in tg.calls[before:], timeout=20)
        query_id = approve["callback_query"]["id"]
        answers = [
            c for c in tg.of("answerCallbackQuery") if c.params["callback_query_id"] == query_id
        ]
        assert [a.params["text"] for a in answers] == ["Finding pictures for every scene…"]
        refusal_id = refusal.params["callback_query_id"]
        # One answer per press: no late second answer to the refused one.
        assert [
            c for c in tg.of("answerCallbackQuery") if c.params["callback_query_id"] == refusal_id
        ] == [refusal]
        assert not [c for c in tg.calls[before:] if c.method == "editMessageText"]
