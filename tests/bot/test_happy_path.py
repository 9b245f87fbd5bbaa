"""Topic -> script -> approve -> swap -> render -> the reel in the chat, with its R2 link."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr

from pipeline.models import JobState
from pipeline.render import probe, resolve_ffmpeg
from storage import DeliveryRepository
from tests.bot.conftest import ALICE, World, draft
from tests.fakes.s3 import S3Endpoint, moto_s3, s3_server

__all__ = ["moto_s3", "s3_server"]  # fixtures, used by name

PUBLIC = "https://cdn.reels.test"


@pytest.mark.slow
async def test_topic_to_reel(world: World, s3_server: S3Endpoint, tmp_path: Path) -> None:
    tg = world.tg
    world.groq.enqueue(
        draft(
            "Octopus <hearts> & blood",
            [
                "Octopuses have three hearts.",
                "Two of them pump blood to the gills.",
                "Their blood is blue.",
            ],
        )
    )
    r2 = {
        "blob_store": "r2",
        "r2_endpoint_url": s3_server.endpoint_url,
        "r2_bucket": s3_server.bucket,
        "r2_access_key_id": SecretStr(s3_server.access_key_id),
        "r2_secret_access_key": SecretStr(s3_server.secret_access_key),
        "r2_public_base_url": PUBLIC,
    }
    async with world.bot(**r2) as front:
        script = await world.said(ALICE, "why octopuses have three hearts")
        assert any(c.params.get("action") == "typing" for c in tg.of("sendChatAction"))
        assert "<b>Octopus &lt;hearts&gt; &amp; blood</b>" in script.text
        assert "3. Their blood is blue." in script.plain
        message = tg.message_of(script)
        assert [label.split()[-1] for label in tg.buttons(message)] == [
            "Approve",
            "Edit",
            "Rewrite",
            "Cancel",
        ]

        answer, sheet = await world.pressed(ALICE, message, "Approve", "sendPhoto")
        assert answer.params["text"] == "Finding pictures for every scene…"
        photo = Image.open(io.BytesIO(sheet.files["photo"].data))
        assert photo.format == "JPEG" and photo.size == (3 * 240 + 4 * 8, 426 + 2 * 8)
        assert "Octopus <hearts> & blood" in sheet.plain
        sheet_message = tg.message_of(sheet)
        labels = list(tg.buttons(sheet_message))
        assert labels == ["Swap 1", "Swap 2", "Swap 3", "🎬 Render", "✖️ Cancel"]
        await tg.wait_for(  # the approved script loses its buttons
            "editMessageReplyMarkup", lambda c: int(c.params["message_id"]) == message["message_id"]
        )
        assert not tg.buttons(tg.messages[(ALICE.id, message["message_id"])])

        # The sheet came with one picture per scene; the others followed in the background.
        (reviewed,) = await front.studio.app.jobs.in_states(JobState.IMAGES_REVIEW)
        await front.studio.preparations.ready(reviewed.id)
        answer, swapped = await world.pressed(ALICE, sheet_message, "Swap 2", "editMessageMedia")
        assert answer.params["text"] == "Scene 2: picture 2 of 3"
        assert swapped.files["media"].data != sheet.files["photo"].data
        assert swapped.params["media"]["type"] == "photo"
        job = await front.studio.job(re.sub(r".*:", "", tg.button(sheet_message, "Render")))
        assert job.selection == {"scenes": [0, 1, 0]}

        answer, progress = await world.pressed(
            ALICE, tg.message_of(swapped), "Render", "sendMessage"
        )
        assert answer.params["text"] == "Your reel is in the render queue."
        assert progress.plain.startswith("Making your reel")
        video = (await tg.wait_for("sendVideo", timeout=90))[0]
        done = await tg.wait_for(
            "editMessageText",
            lambda c: (
                int(c.params["message_id"]) == tg.message_of(progress)["message_id"]
                and "Done!" in c.plain
            ),
        )

    # The upload is a playable 720x1280 reel, described as such.
    upload = tmp_path / "upload.mp4"
    upload.write_bytes(video.files["video"].data)
    info = await probe(upload, binary=resolve_ffmpeg())
    assert (info.width, info.height, info.video_codec) == (720, 1280, "h264")
    assert info.audio_codec == "aac" and info.duration and info.duration > 2
    params = video.params
    assert (params["width"], params["height"], params["supports_streaming"]) == (
        "720",
        "1280",
        "true",
    )
    assert abs(int(params["duration"]) - info.duration) <= 1
    thumb = Image.open(io.BytesIO(video.files["thumbnail"].data))
    assert thumb.format == "JPEG" and max(thumb.size) <= 320
    assert "<b>Octopus &lt;hearts&gt; &amp; blood</b>" in video.text
    assert "#octopus #facts" in video.text
    link = re.search(r'<a href="([^"]+)">Watch and share</a>', video.text)
    assert (
        link
        and link.group(1).startswith(f"{PUBLIC}/reels/")
        and link.group(1).endswith(f"/{job.id}/index.html")  # the share page
    )

    # Once, recorded, and the progress message was edited at most every 2 s.
    assert len(tg.of("sendVideo")) == 1
    edits = [
        c.at
        for c in tg.of("editMessageText")
        if int(c.params["message_id"]) == tg.message_of(progress)["message_id"]
    ]
    assert edits[-1] == done[0].at
    assert all(later - earlier >= 2.0 for earlier, later in zip(edits, edits[1:], strict=False))
    async with world.bot() as again:
        finished = await again.studio.job(job.id)
        assert finished.state == JobState.DELIVERED
        deliveries = await DeliveryRepository(again.app.db).for_job(job.id)
        assert [(d.target, d.state) for d in deliveries] == [(f"telegram:{ALICE.id}", "sent")]
