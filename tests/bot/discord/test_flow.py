"""/reel from topic to reel through the real discord.py client and the fake Discord: the
review steps, presses that must not act, hostile text, and the size limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline.models import JobState
from pipeline.render import probe, resolve_ffmpeg
from tests.bot.conftest import draft
from tests.bot.discord.conftest import ADMIN, ALICE, BOB, OWN, DiscordWorld
from tests.fakes.discord import DcMessage
from tests.fakes.s3 import S3Endpoint, moto_s3, s3_server

__all__ = ["moto_s3", "s3_server"]  # fixtures, used by name


def reel_message(world: DiscordWorld) -> DcMessage | None:
    """The delivery: the one message that mentions its requester."""
    return next((m for m in world.dc.messages(world.general) if m.content.startswith("<@")), None)


def shown(text: str) -> str:
    """Markdown as Discord shows it: a backslash-escaped character is that character."""
    return re.sub(r"\\(.)", r"\1", text)


def job_of(message: DcMessage, label: str = "Approve") -> str:
    return message.button(label).rsplit(":", 1)[-1]


async def test_topic_to_reel(discord_world: DiscordWorld, tmp_path: Path) -> None:
    world, dc = discord_world, discord_world.dc
    world.groq.enqueue(
        draft("Octopus hearts", ["Octopuses have three hearts.", "Their blood is blue."])
    )
    async with world.bot() as front:
        ask = dc.slash(ALICE, "reel", {"topic": "octopus hearts"}, channel=world.general)
        await dc.wait_until(lambda: ask.acked)
        assert ask.response_type == 5  # deferred within the deadline, then the draft
        script = await world.reply_to(ask)
        assert "**Octopus hearts**" in script.content and "Their blood is blue" in script.content
        assert set(script.buttons()) >= {"✅ Approve", "🔄 Rewrite", "✖️ Cancel"}
        job = job_of(script)
        assert script.button("Approve") == f"reel:approve:{job}"

        approve = dc.press(ALICE, script, script.button("Approve"))
        sheet = await world.reply_to(approve)
        assert [a.filename for a in sheet.attachments] == ["sheet.jpg"]
        assert not dc.message(script.id).components  # the script's buttons are gone
        render = dc.press(ALICE, sheet, sheet.button("Render"))
        await dc.wait_until(lambda: render.acked)
        reel = await dc.wait_until(lambda: reel_message(world), timeout=60)

        (video,) = [a for a in reel.attachments if a.filename == "reel.mp4"]
        path = tmp_path / "reel.mp4"
        path.write_bytes(video.data)
        info = await probe(path, binary=resolve_ffmpeg())
        assert (info.width, info.height) == (720, 1280) and info.duration and info.duration > 1
        assert reel.content.startswith(f"<@{ALICE.id}>") and "**Octopus hearts**" in reel.content
        assert dc.pinged(reel) == {f"user:{ALICE.id}"}  # the requester, nobody else
        # One progress message, edited in place, ending "Done!".
        progress = [m for m in dc.messages(world.general) if "Making your reel" in m.content]
        assert len(progress) == 1
        await dc.wait_until(lambda: "Done!" in shown(progress[0].content))
        assert (await front.bot.studio.job(job)).state == JobState.DELIVERED


async def test_over_the_channel_limit_the_link_goes_alone(
    discord_world: DiscordWorld, s3_server: S3Endpoint
) -> None:
    world, dc = discord_world, discord_world.dc
    r2 = {
        "blob_store": "r2",
        "r2_endpoint_url": s3_server.endpoint_url,
        "r2_bucket": s3_server.bucket,
        "r2_access_key_id": SecretStr(s3_server.access_key_id),
        "r2_secret_access_key": SecretStr(s3_server.secret_access_key),
        "r2_public_base_url": "https://cdn.reels.test",
    }
    async with world.bot(**r2):
        script = await world.reel(ALICE, script=OWN)
        sheet = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
        dc.press(ALICE, sheet, sheet.button("Render"), attachment_size_limit=1024)
        reel = await dc.wait_until(lambda: reel_message(world), timeout=60)
        assert not reel.attachments
        assert "above the 0 MB" in shown(reel.content)  # the reel is bigger than 1 KiB
        # The link is the reel's share page (pipeline.share), which plays the video.
        link = re.search(
            r"\]\(<(https://cdn\.reels\.test/reels/[^>]+/index\.html)>\)", reel.content
        )
        assert link is not None, reel.content


async def test_edit_through_the_modal_swap_rewrite_and_cancel(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    world.groq.enqueue(
        draft("Volcanoes", ["Lava is hot.", "Ash travels far."]),
        draft("Volcanoes, again", ["Magma rises.", "It cools.", "Islands are born."]),
    )
    async with world.bot() as front:
        script = await world.reel(ALICE, topic="volcanoes")
        pick = dc.select(ALICE, script, f"reel-pick:edit:{job_of(script)}", ["2"])
        await dc.wait_until(lambda: pick.modal)
        assert pick.modal is not None and pick.modal["title"] == "Scene 2"
        (field,) = _inputs(pick.modal)
        assert field["value"] == "Ash travels far." and field["max_length"] == 4000
        submitted = dc.submit_modal(
            ALICE, pick, {field["custom_id"]: "Ash *travels* far, far away."}
        )
        await dc.wait_until(lambda: submitted.acked)
        # Acknowledged first; the script is then edited in place.
        edited = await dc.wait_until(
            lambda: dc.message(script.id) if "far away" in dc.message(script.id).content else None
        )
        assert submitted.response_type == 6
        assert "Ash \\*travels\\* far, far away" in edited.content and edited.button("Approve")

        rewrite = dc.press(ALICE, edited, edited.button("Rewrite"))
        await dc.wait_until(lambda: "Islands are born" in dc.message(script.id).content)
        assert rewrite.response_type == 6 and len(world.groq.of("chat")) == 2

        sheet = await world.reply_to(
            dc.press(ALICE, dc.message(script.id), script.button("Approve"))
        )
        first = sheet.attachments[0].data
        swap = dc.select(ALICE, sheet, f"reel-pick:swap:{job_of(sheet, 'Render')}", ["1"])
        await dc.wait_until(lambda: dc.message(sheet.id).attachments[0].data != first)
        assert swap.response_type == 6 and dc.message(sheet.id).button("Render")
        job = await front.bot.studio.job(job_of(sheet, "Render"))
        assert job.selection == {"scenes": [1, 0, 0]}

        cancel = dc.press(ALICE, sheet, sheet.button("Cancel"))
        told = await world.reply_to(cancel)
        assert shown(told.content).startswith("Cancelled.")
        assert not dc.message(sheet.id).components
        assert (await front.bot.studio.job(job.id)).state == JobState.CANCELLED


def _inputs(modal: dict) -> list[dict]:
    found = []
    for row in modal["components"]:
        for child in row.get("components", [row.get("component")]):
            if child and child.get("type") == 4:
                found.append(child)
    return found


async def test_other_users_presses_are_refused_and_change_nothing(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot() as front:
        script = await world.reel(ALICE, script=OWN)
        job = job_of(script)
        before = dc.message(script.id).payload()
        presses = [
            dc.press(BOB, script, script.button("Approve")),
            dc.press(BOB, script, script.button("Rewrite")),
            dc.press(BOB, script, script.button("Cancel")),
            dc.select(BOB, script, f"reel-pick:edit:{job}", ["1"]),
        ]
        for press in presses:
            refusal = await world.reply_to(press)
            assert refusal.ephemeral and refusal.visible_to(BOB) and not refusal.visible_to(ALICE)
            assert "Only the person who started this reel" in shown(refusal.content)
            assert press.modal is None
        assert dc.message(script.id).payload() == before
        sheet = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
        for custom_id in (sheet.button("Render"), f"reel-pick:swap:{job}"):
            press = (
                dc.select(BOB, sheet, custom_id, ["1"])
                if custom_id.startswith("reel-pick")
                else dc.press(BOB, sheet, custom_id)
            )
            refusal = await world.reply_to(press)
            assert refusal.ephemeral and "Only the person" in shown(refusal.content)
        assert (await front.bot.studio.job(job)).state == JobState.IMAGES_REVIEW


async def test_a_double_approve_makes_one_review(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot() as front:
        script = await world.reel(ALICE, script=OWN)
        job = job_of(script)
        first = dc.press(ALICE, script, script.button("Approve"))
        second = dc.press(ALICE, script, script.button("Approve"))
        answers = [await world.reply_to(first), await world.reply_to(second)]
        sheets = [m for m in answers if m.attachments]
        refusals = [m for m in answers if m.ephemeral]
        assert len(sheets) == 1 and len(refusals) == 1
        runs = await front.bot.studio.app.runs.for_job(job)
        # One image search; the voice started beside it once (pipeline.studio.preparing).
        assert [r.stage for r in runs if r.stage in ("images", "voice")] == ["images", "voice"]


async def test_stale_and_forged_buttons_get_an_answer_and_change_nothing(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot() as front:
        script = await world.reel(ALICE, script=OWN)
        # Cancelled elsewhere (another press, a restart): the message still has its buttons.
        await front.bot.studio.cancel(f"discord:{ALICE.id}", job_of(script))
        stale = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
        assert stale.ephemeral and "already finished or cancelled" in shown(stale.content)

        live = await world.reel(ALICE, script=OWN)
        assert live.components, live.content
        job = job_of(live)
        for forged in ("reel:explode:" + job, "reel:approve:0000000000000000", "hello"):
            live.components[1]["components"][0]["custom_id"] = forged  # a client that lies
            answer = await world.reply_to(dc.press(ALICE, live, forged))
            assert answer.ephemeral
            assert any(
                phrase in answer.content for phrase in ("out of date", "can't find that reel")
            ), answer.content
        assert (await front.bot.studio.job(job)).state == JobState.SCRIPT_REVIEW


@pytest.mark.parametrize("topic", ["  ", "\u200b\u200b\u200b", "ab"])
async def test_blank_and_zero_width_topics_get_a_reply_and_no_job(
    discord_world: DiscordWorld, topic: str
) -> None:
    world = discord_world
    async with world.bot() as front:
        answer = await world.reel(ALICE, topic=topic)
        assert "A topic is 3 to 300 characters" in shown(answer.content)
        assert "/reel script:" in shown(answer.content)  # the Discord spelling
        assert await front.bot.studio.app.jobs.in_states(*JobState) == []


async def test_mentions_and_markdown_in_user_text_ping_nobody_and_stay_text(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    role = dc.add_role(world.guild, "mods")
    hostile = (
        f"# Pings\n\n@everyone look <@&{role.id}> and <@{BOB.id}> now.\n\n"
        "**bold** [click](https://evil.example) `code` > quote\n\n@here third scene."
    )
    async with world.bot():
        script = await world.reel(ALICE, script=hostile)
        assert dc.pinged(script) == set()
        assert "[click](https://evil.example)" not in script.content
        assert "\\[click\\]\\(https\\://evil\\.example\\)" in script.content
        assert "@\u200beveryone" in script.content and "\\> quote" in script.content
        assert f"\\<@&{role.id}\\>" in script.content

        pick = dc.select(ALICE, script, f"reel-pick:edit:{job_of(script)}", ["1"])
        await dc.wait_until(lambda: pick.modal)
        (field,) = _inputs(pick.modal)
        submitted = dc.submit_modal(ALICE, pick, {field["custom_id"]: f"@everyone <@{BOB.id}> hi"})
        await dc.wait_until(lambda: submitted.acked)
        edited = await dc.wait_until(
            lambda: dc.message(script.id) if " hi" in dc.message(script.id).content else None
        )
        assert dc.pinged(edited) == set() and "@\u200beveryone" in edited.content

        topic = await world.reel(ALICE, topic=f"@everyone <@{BOB.id}> octopus")
        assert dc.pinged(topic) == set()
        every = [m for m in dc.messages(world.general)]
        assert all(not dc.pinged(m) for m in every), [m.content for m in every if dc.pinged(m)]


async def test_a_4000_character_edit_is_refused_and_the_review_stays(
    discord_world: DiscordWorld,
) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        script = await world.reel(ALICE, script=OWN)
        before = dc.message(script.id).payload()
        pick = dc.select(ALICE, script, f"reel-pick:edit:{job_of(script)}", ["1"])
        await dc.wait_until(lambda: pick.modal)
        (field,) = _inputs(pick.modal)
        submitted = dc.submit_modal(ALICE, pick, {field["custom_id"]: "x" * 4000})
        refusal = await world.reply_to(submitted)
        assert refusal.ephemeral
        assert "A scene is at most 600 characters; yours has 4000" in shown(refusal.content)
        assert dc.message(script.id).payload() == before and script.button("Approve")


async def test_commands_sync_to_one_guild_when_it_is_set(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot(
        discord=world.settings.discord.model_copy(update={"guild_id": world.guild.id})
    ):
        names = {c["name"] for c in dc.commands.get(world.guild.id, [])}
        assert names == {"reel", "settings", "stats", "help"}
        assert world.guild.id in dc.commands and not dc.commands.get(None)
        script = await world.reel(ALICE, script=OWN)
        assert script.button("Approve")


async def test_reel_in_a_direct_message(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot():
        script = await world.reel(ALICE, dc.dm_channel(ALICE), script=OWN)
        assert script.channel.guild_id is None and script.button("Approve")
        sheet = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
        assert sheet.channel.id == script.channel.id and sheet.attachments


async def test_settings_and_stats_answer_only_the_asker(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with world.bot() as front:
        ask = dc.slash(ALICE, "settings", {}, channel=world.general)
        screen = await world.reply_to(ask)
        assert screen.ephemeral and screen.visible_to(ALICE)
        style = next(c for c in screen.custom_ids() if c == "reel-set:style")
        chosen = dc.select(ALICE, screen, style, ["boxed"])
        await dc.wait_until(lambda: chosen.acked)
        prefs = await front.bot.studio.preferences(f"discord:{ALICE.id}")
        assert prefs.style == "boxed"
        assert "White on a dark box" in shown(dc.message(screen.id).content)

        refused = await world.reply_to(dc.slash(ALICE, "stats", {}, channel=world.general))
        assert refused.ephemeral and "for admins" in shown(refused.content)
        stats = await world.reply_to(dc.slash(ADMIN, "stats", {}, channel=world.general))
        assert stats.ephemeral and "Jobs:" in shown(stats.content)
