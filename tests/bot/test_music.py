"""Music on the chat fronts: the on/off setting, and a track sent in chat while a reel is
reviewed, credited in the caption."""

from __future__ import annotations

import io
import math
import struct
import wave

from pipeline.stages.music import OFF
from tests.bot.conftest import ALICE, World

SCRIPT = "/script # Hearts\n\nOctopuses have three hearts.\n\nTheir blood is blue."


def tone_wav(seconds: float = 2.0, rate: int = 22050) -> bytes:
    """A real WAV file: a soft 220 Hz tone."""
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 220 * n / rate)))
        for n in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()


async def test_music_off_is_a_setting_and_reels_then_have_none(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        screen = await world.said(ALICE, "/music")
        assert screen.plain.startswith("Music under the voice: 🎵 On.")
        _, edited = await world.pressed(ALICE, tg.message_of(screen), "Off", "editMessageText")
        assert "Music under the voice: 🔇 Off." in edited.plain
        assert "✓ 🔇 Off" in tg.buttons(tg.message_of(edited))
        owner = f"telegram:{ALICE.id}"
        assert (await front.studio.preferences(owner)).music is False
        script = await world.said(ALICE, SCRIPT)
        job_id = tg.button(tg.message_of(script), "Approve").rsplit(":", 1)[-1]
        assert front.studio.script_of(await front.studio.job(job_id)).music == OFF


async def test_a_track_sent_during_review_plays_and_is_credited(world: World) -> None:
    tg = world.tg
    async with world.bot() as front:
        orphan = await _sent_file(world, "early.wav", tone_wav())
        assert orphan.plain.startswith("Send a topic first")
        script = await world.said(ALICE, SCRIPT)
        job_id = tg.button(tg.message_of(script), "Approve").rsplit(":", 1)[-1]
        refused = await _sent_file(world, "notes.mp3", b"this is not audio at all" * 10)
        assert refused.plain.startswith("That file isn't an audio track I can use.")
        told = await _sent_file(world, "My Song.wav", tone_wav())
        assert told.plain == "Your track “My Song.wav” will play under the voice of this reel."
        job = await front.studio.job(job_id)
        assert front.studio.script_of(job).music is not None
        _, sheet = await world.pressed(ALICE, tg.message_of(script), "Approve", "sendPhoto")
        await world.pressed(ALICE, tg.message_of(sheet), "Render", "answerCallbackQuery")
        video = (await tg.wait_for("sendVideo", timeout=60))[0]
        assert "♪ My Song.wav" in video.params["caption"]
        runs = await front.app.runs.for_job(job_id)
        assert [(r.stage, r.provider) for r in runs if r.stage == "music"] == [("music", "user")]


async def _sent_file(world: World, name: str, data: bytes) -> object:
    before = len(world.tg.calls)
    world.tg.send_file(ALICE, name, data)
    calls = await world.tg.wait_for(
        "sendMessage", lambda c: c in world.tg.calls[before:], timeout=20
    )
    return calls[0]
