"""Voice stage: narration audio with word timings, loudness-normalised for the render."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ..chain import Served, first_success
from ..models import Voiceover
from ..ports import Aligner, SpeechSynth
from ..render import normalise_voice, resolve_ffmpeg
from .base import JobContext, read_json, write_json

VOICE_JSON = "voice.json"
TIMINGS_JSON = "timings.json"
NORMALISED = "voice.m4a"


def load(ctx: JobContext) -> Voiceover | None:
    path = ctx.path(VOICE_JSON)
    if not path.is_file() or not ctx.path(NORMALISED).is_file():
        return None
    return Voiceover.model_validate(read_json(path))


async def run(
    ctx: JobContext, synths: Sequence[SpeechSynth], aligners: Sequence[Aligner] = ()
) -> Served[Voiceover]:
    await ctx.report("voice", 0.0)
    served = await first_success(
        synths, lambda synth: synth.synthesize(ctx.script, ctx.voice, ctx.work), stage="voice"
    )
    voiceover = served.value
    if not voiceover.words:
        aligned = await first_success(
            aligners,
            lambda aligner: aligner.align(voiceover.audio_path, ctx.script, ctx.voice.language),
            stage="align",
        )
        voiceover = voiceover.model_copy(update={"words": aligned.value})
    await ctx.report("voice", 0.7, "normalising loudness")
    binary = resolve_ffmpeg(ctx.settings.ffmpeg_binary)
    await normalise_voice(
        voiceover.audio_path,
        ctx.path(NORMALISED),
        binary=binary,
        timeout=ctx.settings.render_timeout,
    )
    await asyncio.to_thread(_persist, ctx, voiceover)
    await ctx.report("voice", 1.0)
    return Served(voiceover, served.provider, served.attempts)


def _persist(ctx: JobContext, voiceover: Voiceover) -> None:
    write_json(ctx.path(TIMINGS_JSON), [word.model_dump() for word in voiceover.words])
    write_json(ctx.path(VOICE_JSON), voiceover.model_dump(mode="json"))


def normalised_audio(ctx: JobContext) -> Path:
    return ctx.path(NORMALISED)
