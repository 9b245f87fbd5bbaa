"""YouTube on Discord with the mock Google: /connect service:youtube shows a code and says when
the channel is linked; the "Post to YouTube" button under a delivered reel asks for the
privacy (ephemeral) and answers with the Shorts link, once; others are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from tests.bot.conftest import draft
from tests.bot.discord.conftest import ALICE, BOB, DiscordWorld
from tests.bot.discord.test_flow import job_of, shown
from tests.fakes.discord import DcMessage
from tests.fakes.scripts import OCTOPUS
from tests.fakes.youtube import FakeYouTube


@pytest.mark.slow
async def test_connect_then_post_a_reel_to_youtube(discord_world: DiscordWorld) -> None:
    world, dc = discord_world, discord_world.dc
    async with FakeYouTube(interval=0) as youtube:
        settings = {
            "youtube_client_id": "demo-client",
            "youtube_token_key": SecretStr(Fernet.generate_key().decode()),
            "youtube_oauth_base": youtube.base_url,
            "youtube_api_base": youtube.base_url,
        }
        world.groq.enqueue(draft("Octopus", list(OCTOPUS["en"][:2])))
        async with world.bot(**settings) as front:
            youtube.approve_after = 1
            asked = dc.slash(ALICE, "connect", {"service": "youtube"}, channel=world.general)
            code = await world.reply_to(asked)
            assert code.ephemeral
            assert f"open {youtube.base_url}/device and" in code.content  # a bare, clickable link
            assert "enter the code ABCD-" in shown(code.content)
            linked = await dc.wait_until(
                lambda: next((m for m in asked.messages if "Demo channel" in m.content), None)
            )
            assert linked.ephemeral
            assert shown(linked.content).startswith("✅ YouTube channel linked: Demo channel.")

            script = await world.reel(ALICE, topic="why octopuses have three hearts")
            job = job_of(script)
            sheet = await world.reply_to(dc.press(ALICE, script, script.button("Approve")))
            dc.press(ALICE, sheet, sheet.button("Render"))

            def delivered() -> list[DcMessage]:
                return [
                    m
                    for m in dc.messages(world.general)
                    if m.content.startswith("<@")
                    and any(a.filename == "reel.mp4" for a in m.attachments)
                ]

            [reel] = await dc.wait_until(lambda: delivered() or None, timeout=60)
            button = f"reel-yt:ask:{job}"
            assert button in reel.custom_ids()

            refused = await world.reply_to(dc.press(BOB, reel, button))
            assert refused.ephemeral and "Only the person who started" in shown(refused.content)

            choice = await world.reply_to(dc.press(ALICE, reel, button))
            assert choice.ephemeral and shown(choice.content) == "Post this reel to YouTube as:"
            assert list(choice.buttons()) == ["✓ 🔒 Private", "🔗 Unlisted", "🌍 Public"]
            done = await world.reply_to(dc.press(ALICE, choice, choice.button("🌍 Public")))
            [(resource, data)] = youtube.videos.values()
            url = f"https://youtube.com/shorts/{resource['id']}"
            assert done.content == f"On YouTube \\(Public\\)\\: {url}"  # the link stays bare
            assert resource["status"]["privacyStatus"] == "public"
            assert resource["status"]["containsSyntheticMedia"] is True
            record = await front.app.jobs.get(job)
            assert record is not None
            assert data == (Path(record.work_dir) / "reel.mp4").read_bytes()

            again = await world.reply_to(dc.press(ALICE, reel, button))
            assert shown(again.content) == f"Already on YouTube: {url}"
            assert len(youtube.videos) == 1

            gone = await world.reply_to(
                dc.slash(ALICE, "disconnect", {"service": "youtube"}, channel=world.general)
            )
            assert shown(gone.content).startswith("Your YouTube channel is unlinked")
            assert youtube.refresh_tokens == {}
