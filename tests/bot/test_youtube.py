"""YouTube on Telegram, as a user would try it with the mock Google: /connect youtube shows a
code and says when the channel is linked; "Post to YouTube" under a delivered reel asks for
the privacy and answers with the Shorts link; a second press gives the same link; another
user's press and forged data are refused; /disconnect youtube revokes the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.telegram.callbacks import YouTubeAction
from tests.bot.conftest import ALICE, BOB, World, draft
from tests.fakes.scripts import OCTOPUS
from tests.fakes.youtube import FakeYouTube

BUTTON = "▶️ Post to YouTube"


@pytest.fixture
async def youtube() -> AsyncIterator[FakeYouTube]:
    async with FakeYouTube(interval=0) as fake:
        yield fake


def _youtube_settings(fake: FakeYouTube) -> dict[str, object]:
    return {
        "youtube_client_id": "demo-client",
        "youtube_token_key": SecretStr(Fernet.generate_key().decode()),
        "youtube_oauth_base": fake.base_url,
        "youtube_api_base": fake.base_url,
    }


async def test_connect_usage_and_not_configured(world: World, youtube: FakeYouTube) -> None:
    async with world.bot():  # no OAuth client: YouTube is not offered
        usage = await world.said(ALICE, "/connect tiktok")
        assert "/connect youtube" in usage.plain
        for asked in ("/connect youtube", "/connect"):  # the bare one means the only service
            refused = await world.said(ALICE, asked)
            assert refused.plain == "Posting to YouTube is not set up on this bot."
    assert youtube.requests == []
    menu = [c["command"] for c in world.tg.of("setMyCommands")[0].params["commands"]]
    assert "connect" not in menu and "new" in menu


@pytest.mark.slow
async def test_connect_then_post_a_reel_to_youtube(world: World, youtube: FakeYouTube) -> None:
    tg = world.tg
    async with world.bot(**_youtube_settings(youtube)) as front:
        # Before linking, the button says what to do.
        youtube.approve_after = 1
        menu = [c["command"] for c in tg.of("setMyCommands")[-1].params["commands"]]
        assert menu[-2:] == ["connect", "disconnect"]
        shown = await world.said(ALICE, "/connect youtube")
        assert f"open {youtube.base_url}/device and enter the code ABCD-" in shown.plain
        [linked] = await tg.wait_for("sendMessage", lambda c: "channel linked" in c.plain)
        assert linked.plain.startswith("✅ YouTube channel linked: Demo channel.")

        world.groq.enqueue(draft("Octopus <hearts>", list(OCTOPUS["en"][:2])))
        script = await world.said(ALICE, "why octopuses have three hearts")
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        before = len(tg.calls)
        await world.pressed(ALICE, tg.message_of(sheet), "Render", "sendMessage")
        [video] = await tg.wait_for("sendVideo", lambda c: c in tg.calls[before:], timeout=60)
        reel = tg.message_of(video)
        assert BUTTON in tg.buttons(reel)

        # Bob's press is refused; forged data names no reel.
        refusal = await world.answer_to(BOB, reel, tg.button(reel, BUTTON))
        assert refusal.params.get("show_alert") == "true"
        forged = await world.answer_to(ALICE, reel, "yt:nosuchjob:ask")
        assert forged.params["text"].startswith("I can't find that reel any more")
        bad = await world.answer_to(ALICE, reel, "yt:x:loud")
        assert bad.params["text"] == "That button is out of date. Send a new topic to start again."

        _, ask = await world.pressed(ALICE, reel, BUTTON, "sendMessage")
        assert ask.plain == "Post this reel to YouTube as:"
        choice = tg.message_of(ask)
        assert list(tg.buttons(choice)) == ["✓ 🔒 Private", "🔗 Unlisted", "🌍 Public"]
        answer, done = await world.pressed(ALICE, choice, "🔗 Unlisted", "editMessageText")
        assert answer.params["text"] == "Uploading to YouTube…"
        [(resource, data)] = youtube.videos.values()
        url = f"https://youtube.com/shorts/{resource['id']}"
        assert done.plain == f"On YouTube (Unlisted): {url}"
        job = (await front.app.jobs.recent())[0]
        assert data == (Path(job.work_dir) / "reel.mp4").read_bytes()
        assert resource["status"]["containsSyntheticMedia"] is True
        assert resource["status"]["privacyStatus"] == "unlisted"
        assert resource["snippet"]["title"] == "Octopus hearts"
        assert resource["snippet"]["description"].endswith(
            "🤖 Made with AI: the script, voice or images may be AI-generated."
        )

        # Pressed again: the same link, nothing uploaded again.
        _, again = await world.pressed(ALICE, reel, BUTTON, "sendMessage")
        assert again.plain == f"Already on YouTube: {url}"
        assert len(youtube.videos) == 1

        gone = await world.said(ALICE, "/disconnect youtube")
        assert gone.plain.startswith("Your YouTube channel is unlinked")
        assert youtube.refresh_tokens == {}
        # Unlinked: a press on another reel's button says to connect first.
        data = YouTubeAction(job=job.id, privacy="public").pack()
        before = len(tg.calls)
        tg.press(ALICE, reel, data)
        [told] = await tg.wait_for(
            "sendMessage", lambda c: c in tg.calls[before:] and "No YouTube" in c.plain
        )
        assert told.plain == "No YouTube channel is linked yet. Send /connect youtube first."
