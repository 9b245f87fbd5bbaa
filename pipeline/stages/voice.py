"""Voice stage: narration audio with word timings. Nothing else: the render works out the
voice's loudness while it prepares the stills, and encodes it in its own graph."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ..artifacts import TIMINGS as TIMINGS_JSON
from ..artifacts import VOICE_AUDIO as AUDIO
from ..artifacts import VOICE_JSON
from ..chain import Served, first_success
from ..files import atomic_copy
from ..models import Voiceover
from ..ports import Aligner, SpeechSynth
from .base import JobContext, read_json, write_json

# As synthesised; published as it is (the key layout allows voice.<ext>).


def load(ctx: JobContext) -> Voiceover | None:
    path = ctx.path(VOICE_JSON)
    if not path.is_file() or not audio_path(ctx).is_file():
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
    voiceover = await asyncio.to_thread(_persist, ctx, voiceover)
    await ctx.report("voice", 1.0)
    return Served(voiceover, served.provider, served.attempts)


def _persist(ctx: JobContext, voiceover: Voiceover) -> Voiceover:
    target = audio_path(ctx)
    if voiceover.audio_path != target:
        # Every synth writes voice.wav in the job folder; one that did not is copied there,
        # so the artifact the runner checks and uploads is always the same file.
        atomic_copy(voiceover.audio_path, target)
        voiceover = voiceover.model_copy(update={"audio_path": target})
    write_json(ctx.path(TIMINGS_JSON), [word.model_dump() for word in voiceover.words])
    write_json(ctx.path(VOICE_JSON), voiceover.model_dump(mode="json"))
    return voiceover


def audio_path(ctx: JobContext) -> Path:
    return ctx.path(AUDIO)
